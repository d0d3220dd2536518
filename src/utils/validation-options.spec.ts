import { ValidationError } from 'class-validator';
import { describeValidationErrors } from './validation-options';

const error = (
  property: string,
  constraints?: Record<string, string>,
  children: ValidationError[] = [],
) => Object.assign(new ValidationError(), { property, constraints, children });

describe('describeValidationErrors', () => {
  it('builds the contract paths, with [i] for array items', () => {
    const tree = [
      error('changes', undefined, [
        error('scores', undefined, [
          error('created', undefined, [
            error('3', undefined, [error('raw_score', { isInt: 'raw_score must be an integer' })]),
          ]),
        ]),
      ]),
      error('last_pulled_at', { isInt: 'last_pulled_at must be an integer', min: 'custom text' }),
    ];
    expect(describeValidationErrors(tree)).toEqual([
      'changes.scores.created[3].raw_score must be an integer',
      'last_pulled_at must be an integer',
      'last_pulled_at: custom text',
    ]);
  });
});
