import { Injectable, PayloadTooLargeException, PipeTransform } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AllConfigType } from '../../config/config.type';
import { validationFailed } from '../../utils/validation-options';
import { isObject } from './is-object';
import { PushChanges, validatePushChanges } from './validate-push-changes';

export type PushRequest = { changes: PushChanges; lastPulledAt: number; records: number };

/** Validates a whole push body against the table registry and hands the service typed changes. */
@Injectable()
export class PushBodyPipe implements PipeTransform<unknown, PushRequest> {
  constructor(private readonly config: ConfigService<AllConfigType, true>) {}

  transform(body: unknown): PushRequest {
    const input = isObject(body) ? body : {};
    const errors: string[] = [];
    const lastPulledAt = input.last_pulled_at;
    if (!Number.isSafeInteger(lastPulledAt) || (lastPulledAt as number) < 1) {
      errors.push('last_pulled_at must be a positive integer (the timestamp of the last pull)');
    }
    const result = validatePushChanges(input.changes);
    if ('errors' in result) errors.push(...result.errors);
    if (errors.length || 'errors' in result) {
      throw validationFailed(errors);
    }

    const max = this.config.get('sync.maxPushRecords', { infer: true });
    if (result.records > max) {
      throw new PayloadTooLargeException({
        statusCode: 413,
        message: `A push may carry at most ${max} records; this one has ${result.records}. Split it into several pushes.`,
      });
    }
    return {
      changes: result.changes,
      lastPulledAt: lastPulledAt as number,
      records: result.records,
    };
  }
}
