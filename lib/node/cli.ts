// `websocket-streams` command line (package.json `bin` → dist/cli.cjs).
import { createHash } from 'node:crypto';
import type { Connection } from '../streams/connection';
import { serve, type WebSocketServerHandle } from './server';
import { attach } from './upgrade';

const USAGE = `Usage: websocket-streams echo [--port N] [--host H] [--max-message-size N] [--deflate]

  echo    WebSocket echo server built on the stream tier: every message is sent back,
          frame by frame, as it arrives (conn.readable.pipeTo(conn.writable)).
          Path /sha256 instead answers each message with the lowercase hex SHA-256 of its
          payload, hashed as it streams in: messages of any size, constant memory.

  --port N               port to listen on (default 0: a free port, printed)
  --host H               interface to listen on (default 127.0.0.1)
  --max-message-size N   largest message the echo path accepts, in bytes (default 64 MiB)
  --deflate              accept permessage-deflate (RFC 7692) with any parameters the
                         client offers; without it the extension is declined

Prints "listening on ws://H:N" once ready.`;

/** What `runCli` parsed from the arguments. */
export interface CliOptions {
  readonly command: 'echo';
  readonly host: string;
  readonly port: number;
  readonly maxMessageSize: number | undefined;
  readonly deflate: boolean;
}

/** A usage mistake: printed with the usage text, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Parses the command line (without `node` and the script).
 *
 * @example
 * ```ts
 * parseArgs(['echo', '--port', '9001']); // { command: 'echo', host: '127.0.0.1', port: 9001, ... }
 * ```
 */
export function parseArgs(argv: readonly string[]): CliOptions {
  let command: string | undefined;
  let host = '127.0.0.1';
  let port = 0;
  let maxMessageSize: number | undefined;
  let deflate = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`Option ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--port':
        port = integer(flag, value(), 0, 65535);
        break;
      case '--host':
        host = value();
        break;
      case '--max-message-size':
        maxMessageSize = integer(flag, value(), 0, Number.MAX_SAFE_INTEGER);
        break;
      case '--deflate':
        deflate = true;
        break;
      default:
        if (flag.startsWith('-')) throw new UsageError(`Unknown option ${flag}`);
        if (command !== undefined) throw new UsageError(`Unexpected argument ${JSON.stringify(arg)}`);
        command = arg;
    }
  }
  if (command === undefined) throw new UsageError('No command given');
  if (command !== 'echo') throw new UsageError(`Unknown command ${JSON.stringify(command)}`);
  return { command, host, port, maxMessageSize, deflate };
}

function integer(flag: string, s: string, min: number, max: number): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`Option ${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(s)}`);
  }
  return n;
}

/** A running echo server started by the CLI. */
export interface EchoServer {
  readonly url: string;
  readonly server: WebSocketServerHandle;
  close(): Promise<void>;
}

/**
 * Starts what `websocket-streams echo` runs and prints `listening on ws://H:N` to `out`.
 *
 * @example
 * ```ts
 * const echo = await startEcho(parseArgs(['echo', '--port', '0']));
 * await echo.close();
 * ```
 */
export async function startEcho(options: CliOptions, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<EchoServer> {
  const quiet = (): void => undefined;
  const server = await serve(
    {
      host: options.host,
      port: options.port,
      path: (p) => p !== '/sha256',
      // A frame is never larger than its message: one limit bounds both.
      maxMessageSize: options.maxMessageSize,
      maxFrameSize: options.maxMessageSize,
      perMessageDeflate: options.deflate,
      onError: (err) => process.stderr.write(`websocket-streams: ${(err as Error)?.stack ?? String(err)}\n`),
    },
    (conn) => {
      // The connection's end (a close, a failure) ends the pipe; `closed` says how.
      conn.readable.pipeTo(conn.writable).catch(quiet);
    },
  );
  // Hashing streams the message through, so its size has no bound but the protocol's own.
  const sha = attach(
    server.server,
    // Frames are hashed as they stream, none is kept, so the fragment count needs no bound either.
    { path: '/sha256', maxMessageSize: Number.MAX_SAFE_INTEGER, maxFrameSize: Number.MAX_SAFE_INTEGER, maxFragments: Number.MAX_SAFE_INTEGER,
      perMessageDeflate: options.deflate },
    (conn) => void hashEach(conn).catch(quiet),
  );
  out(`listening on ${server.url}`);
  return {
    url: server.url,
    server,
    async close(): Promise<void> {
      await sha.close(1001, 'Server shutting down');
      await server.close();
    },
  };
}

/** Replies to each message with the hex SHA-256 of its payload, fed chunk by chunk. */
async function hashEach(conn: Connection): Promise<void> {
  for await (const msg of conn.readable) {
    const hash = createHash('sha256');
    for await (const chunk of msg.stream()) hash.update(chunk);
    await conn.send(hash.digest('hex'));
  }
}

/** Runs the command line; resolves with the exit status for usage errors, else keeps serving. */
export async function runCli(argv: readonly string[]): Promise<number | EchoServer> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    return await startEcho(parseArgs(argv));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`websocket-streams: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`websocket-streams: ${(err as Error)?.message ?? String(err)}\n`);
    return 1;
  }
}

// Run when this file is the program (dist/cli.cjs as the bin), not when imported by tests.
if (typeof require !== 'undefined' && typeof module !== 'undefined' && require.main === module) {
  void runCli(process.argv.slice(2)).then((result) => {
    if (typeof result === 'number') {
      process.exitCode = result;
      return;
    }
    const stop = (): void => {
      void result.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
