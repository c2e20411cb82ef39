import { parseArgs, UsageError } from '../../lib/node/cli';

// Argument parsing only: keep the stream tier out of it.
jest.mock('../../lib/streams/connection', () => ({ Connection: class {} }));

describe('cli parseArgs', () => {
  it('parseArgs reads echo with its defaults', () => {
    expect(parseArgs(['echo'])).toEqual({ command: 'echo', host: '127.0.0.1', port: 0, maxMessageSize: undefined, deflate: false });
  });

  it('parseArgs reads every option, with spaces or =', () => {
    expect(parseArgs(['echo', '--port', '9001', '--host=::1', '--max-message-size=1048576', '--deflate'])).toEqual({
      command: 'echo', host: '::1', port: 9001, maxMessageSize: 1048576, deflate: true,
    });
  });

  it.each([
    [[], 'No command given'],
    [['serve'], 'Unknown command "serve"'],
    [['echo', '--port'], 'Option --port needs a value'],
    [['echo', '--port', '70000'], 'Option --port must be an integer from 0 to 65535, got "70000"'],
    [['echo', '--port', '-1'], 'Option --port must be an integer from 0 to 65535, got "-1"'],
    [['echo', '--max-message-size', '1e3'], `Option --max-message-size must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got "1e3"`],
    [['echo', '--verbose'], 'Unknown option --verbose'],
    [['echo', 'extra'], 'Unexpected argument "extra"'],
  ])('parseArgs refuses %p: %s', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(new UsageError(message));
  });
});
