import { ArgumentsHost, ConflictException, Logger } from '@nestjs/common';
import { AllExceptionsFilter } from './all-exceptions.filter';

type MockResponse = {
  status: jest.Mock;
  json: jest.Mock;
  setHeader: jest.Mock;
  headersSent: boolean;
};

function mockResponse(): MockResponse {
  const response = { status: jest.fn(), json: jest.fn(), setHeader: jest.fn(), headersSent: false };
  response.status.mockReturnValue(response);
  return response;
}

function hostWith(response: MockResponse): ArgumentsHost {
  return { switchToHttp: () => ({ getResponse: () => response }) } as unknown as ArgumentsHost;
}

describe('AllExceptionsFilter', () => {
  const filter = new AllExceptionsFilter();
  let response: MockResponse;
  beforeEach(() => (response = mockResponse()));

  it('keeps extra fields of an HttpException body, such as conflicts', () => {
    filter.catch(
      new ConflictException({ message: 'pull first', conflicts: [{ table: 'games', id: 'g1' }] }),
      hostWith(response),
    );
    expect(response.status).toHaveBeenCalledWith(409);
    expect(response.json).toHaveBeenCalledWith({
      statusCode: 409,
      message: 'pull first',
      conflicts: [{ table: 'games', id: 'g1' }],
    });
  });

  it('turns a body-parser size error into a JSON 413', () => {
    filter.catch(
      Object.assign(new Error('too large'), { status: 413, type: 'entity.too.large' }),
      hostWith(response),
    );
    expect(response.status).toHaveBeenCalledWith(413);
    expect(response.json).toHaveBeenCalledWith({
      statusCode: 413,
      message: 'Request body is larger than the configured limit',
    });
  });

  it('answers an unexpected error with a generic 500 and logs it instead of echoing it', () => {
    const log = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    filter.catch(new Error('password=hunter2'), hostWith(response));
    expect(response.json).toHaveBeenCalledWith({
      statusCode: 500,
      message: 'Internal server error',
    });
    expect(log).toHaveBeenCalled();
    log.mockRestore();
  });
});

describe('AllExceptionsFilter and an unavailable database', () => {
  it.each([
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ],
    [
      'a server shutting down (57P01), wrapped by TypeORM',
      {
        message: 'query failed',
        driverError: { code: '57P01', message: 'terminating connection' },
      },
    ],
    ['a dropped connection', new Error('Connection terminated unexpectedly')],
    [
      'a statement timeout (57014)',
      { message: 'canceling statement due to statement timeout', code: '57014' },
    ],
  ])('answers 503 with Retry-After for %s', (_name, error) => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const response = mockResponse();
    new AllExceptionsFilter().catch(error, hostWith(response));
    expect(response.status).toHaveBeenCalledWith(503);
    expect(response.setHeader).toHaveBeenCalledWith('Retry-After', '1');
    expect(response.json).toHaveBeenCalledWith({
      statusCode: 503,
      message: 'The database is unavailable; retry shortly',
    });
    warn.mockRestore();
  });

  it('does not treat a unique violation (23505) as unavailability', () => {
    const log = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const response = mockResponse();
    new AllExceptionsFilter().catch(
      { message: 'duplicate key', driverError: { code: '23505' } },
      hostWith(response),
    );
    expect(response.status).toHaveBeenCalledWith(500);
    log.mockRestore();
  });
});
