import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AllConfigType } from '../config/config.type';
import { DevicesController } from './devices.controller';
import { DevicesService } from './devices.service';
import { DeviceEntity } from './entities/device.entity';
import { DeviceJwtStrategy } from './strategies/device-jwt.strategy';

@Module({
  imports: [
    TypeOrmModule.forFeature([DeviceEntity]),
    PassportModule,
    JwtModule.registerAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AllConfigType, true>) => ({
        secret: config.getOrThrow('devices.jwtSecret', { infer: true }),
        signOptions: { algorithm: 'HS256' },
      }),
    }),
  ],
  controllers: [DevicesController],
  providers: [DevicesService, DeviceJwtStrategy],
  exports: [DevicesService],
})
export class DevicesModule {}
