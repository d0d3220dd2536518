import { ArgumentsHost, ConflictException } from '@nestjs/common';
import { AllExceptionsFilter } from './all-exceptions.filter';

/** The parts of a FastifyReply the filter uses. */
type MockResponse = {
  code: jest.Mock;
  send: jest.Mock;
  header: jest.Mock;
  type: jest.Mock;
  sent: boolean;
  raw: { headersSent: boolean };
  log: { warn: jest.Mock; error: jest.Mock };
};

function mockResponse(): MockResponse {
  const response = {
    code: jest.fn(),
    send: jest.fn(),
    header: jest.fn(),
    type: jest.fn(),
    sent: false,
    raw: { headersSent: false },
    log: { warn: jest.fn(), error: jest.fn() },
  };
  response.code.mockReturnValue(response);
  response.header.mockReturnValue(response);
  response.type.mockReturnValue(response);
  return response;
}

function hostWith(response: MockResponse): ArgumentsHost {
  return { switchToHttp: () => ({ getResponse: () => response }) } as unknown as ArgumentsHost;
}

describe('AllExceptionsFilter', () => {
  const filter = new AllExceptionsFilter();
  let response: MockResponse;
  beforeEach(() => (response = mockResponse()));

  it('answers JSON whatever type the route had set', () => {
    filter.catch(new ConflictException('pull first'), hostWith(response));
    expect(response.type).toHaveBeenCalledWith('application/json; charset=utf-8');
  });

  it('keeps extra fields of an HttpException body, such as conflicts', () => {
    filter.catch(
      new ConflictException({ message: 'pull first', conflicts: [{ table: 'games', id: 'g1' }] }),
      hostWith(response),
    );
    expect(response.code).toHaveBeenCalledWith(409);
    expect(response.send).toHaveBeenCalledWith({
      statusCode: 409,
      message: 'pull first',
      conflicts: [{ table: 'games', id: 'g1' }],
    });
  });

  it("answers a body parser's 4xx with its status and message", () => {
    filter.catch(
      Object.assign(new Error('Request body is too large'), { statusCode: 413 }),
      hostWith(response),
    );
    expect(response.code).toHaveBeenCalledWith(413);
    expect(response.send).toHaveBeenCalledWith({
      statusCode: 413,
      message: 'Request body is too large',
    });
  });

  it('leaves a reply that has started alone', () => {
    response.raw.headersSent = true;
    filter.catch(new Error('stream broke'), hostWith(response));
    expect(response.send).not.toHaveBeenCalled();
    expect(response.log.error).toHaveBeenCalled();
  });

  it('answers an unexpected error with a generic 500 and logs it instead of echoing it', () => {
    const error = new Error('password=hunter2');
    filter.catch(error, hostWith(response));
    expect(response.send).toHaveBeenCalledWith({
      statusCode: 500,
      message: 'Internal server error',
    });
    expect(response.log.error).toHaveBeenCalledWith({ err: error }, 'unexpected error');
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
    const response = mockResponse();
    new AllExceptionsFilter().catch(error, hostWith(response));
    expect(response.code).toHaveBeenCalledWith(503);
    expect(response.header).toHaveBeenCalledWith('Retry-After', '1');
    expect(response.send).toHaveBeenCalledWith({
      statusCode: 503,
      message: 'The database is unavailable; retry shortly',
    });
    expect(response.log.warn).toHaveBeenCalled();
    expect(response.log.error).not.toHaveBeenCalled();
  });

  it('does not treat a unique violation (23505) as unavailability', () => {
    const response = mockResponse();
    new AllExceptionsFilter().catch(
      { message: 'duplicate key', driverError: { code: '23505' } },
      hostWith(response),
    );
    expect(response.code).toHaveBeenCalledWith(500);
    expect(response.log.error).toHaveBeenCalled();
  });
});
