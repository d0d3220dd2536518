import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AllConfigType } from '../config/config.type';
import { AccountController } from './account.controller';
import { AccountService } from './account.service';
import { DevicesController } from './devices.controller';
import { DeviceSessionsService } from './device-sessions.service';
import { DevicesService } from './devices.service';
import { AccountEntity } from './entities/account.entity';
import { DeviceEntity } from './entities/device.entity';
import { PairingCodeEntity } from './entities/pairing-code.entity';
import { RefreshTokenEntity } from './entities/refresh-token.entity';
import { DeviceJwtStrategy } from './strategies/device-jwt.strategy';

@Module({
  imports: [
    TypeOrmModule.forFeature([AccountEntity, DeviceEntity, PairingCodeEntity, RefreshTokenEntity]),
    PassportModule,
    JwtModule.registerAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AllConfigType, true>) => ({
        secret: config.getOrThrow('devices.jwtSecret', { infer: true }),
        signOptions: { algorithm: 'HS256' },
      }),
    }),
  ],
  controllers: [DevicesController, AccountController],
  providers: [DevicesService, AccountService, DeviceSessionsService, DeviceJwtStrategy],
  exports: [DevicesService],
})
export class DevicesModule {}
