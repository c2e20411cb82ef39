import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileExamples, exampleFiles, makeOutDir, resultLine, run, type Finished } from './example-runner';

// Every examples/*.ts is compiled as a user would compile it (strict, importing the built
// package by name) and run in its self-test mode: its server on a loopback port, its client
// against it, one RESULT line, exit 0 (examples/README.md). Examples added later are run
// without being listed here; the checks below their generic one are per example.

const MiB = 1024 * 1024;
// Large enough that holding the upload would show: the process grows by about 55 MiB
// whatever the size (V8's heap, the 1 MiB receive window and frames) on a quiet machine, and
// about 1.1× the upload when it is buffered. Peak RSS counts garbage not yet collected: while
// the whole suite runs on two cores, GC lags and the peak reached 238 MiB at a 256 MiB upload,
// so the bound is the upload itself (what buffering it would exceed), at 512 MiB.
const UPLOAD_MIB = 512;
const uploadDir = mkdtempSync(join(tmpdir(), 'ws-streams-uploads-'));

/** Extra environment per example, for the checks below. */
const envFor: Record<string, NodeJS.ProcessEnv> = {
  'upload-hashed-to-disk.ts': { UPLOAD_MIB: String(UPLOAD_MIB), UPLOAD_DIR: uploadDir },
};

const out = makeOutDir();
let compiled: Promise<Finished> | undefined;
const runs = new Map<string, Promise<Finished>>();

/** Runs an example once (after the one compile); every test about it shares the run. */
function runExample(file: string): Promise<Finished> {
  let done = runs.get(file);
  if (done === undefined) {
    compiled ??= compileExamples(out.dir);
    // tsc emits despite type errors: those fail the type-check test alone, and one broken
    // example does not hide what the others do.
    done = compiled.then(() => {
      const js = join(out.dir, file.replace(/\.ts$/, '.js'));
      return run(process.execPath, [js], { ...process.env, ...envFor[file] }, 50_000);
    });
    runs.set(file, done);
  }
  return done;
}

/** The example's RESULT line, whatever its exit code (which the generic test checks). */
async function resultOf(file: string): Promise<Record<string, unknown>> {
  const { code, stdout, stderr } = await runExample(file);
  try {
    return resultLine(stdout);
  } catch (err) {
    throw new Error(`${file} exited with ${code}: ${(err as Error).message}\n${stderr}`);
  }
}

function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  return new Promise((resolve, reject) => {
    createReadStream(path).on('data', (chunk) => hash.update(chunk)).on('error', reject).on('end', () => resolve(hash.digest('hex')));
  });
}

afterAll(() => {
  out.remove();
  rmSync(uploadDir, { recursive: true, force: true });
});

describe('examples/', () => {
  it('every example type-checks with strict in one tsc run against the built package', async () => {
    compiled ??= compileExamples(out.dir);
    const tsc = await compiled;
    expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
    expect(tsc.code).toBe(0);
  });

  it.each(exampleFiles())('%s exits 0 on its own with an ok RESULT line', async (file) => {
    const { code, stderr } = await runExample(file);
    expect(await resultOf(file)).toMatchObject({ ok: true });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });
});

describe('examples/upload-hashed-to-disk.ts', () => {
  it('the file on disk is the upload: its size, and the SHA-256 the client computed of what it sent', async () => {
    const result = await resultOf('upload-hashed-to-disk.ts');
    const file = String(result.file);
    expect(file.startsWith(uploadDir)).toBe(true);
    expect(statSync(file).size).toBe(UPLOAD_MIB * MiB);
    expect(await sha256OfFile(file)).toBe(result.sent);
    expect(result).toMatchObject({ bytes: UPLOAD_MIB * MiB, received: result.sent });
  });

  it('the process never holds the upload: its peak RSS grows by less than the upload', async () => {
    const result = await resultOf('upload-hashed-to-disk.ts');
    expect(result.peakRssGrowthMiB).toBeLessThan(UPLOAD_MIB);
  });
});

describe('examples/auth-upgrade.ts', () => {
  it('serves its HTTP route and greets the users of a bearer token and of a session cookie', async () => {
    expect(await resultOf('auth-upgrade.ts')).toMatchObject({
      health: 200,
      bearer: ['hello alice', 'alice said: hi'],
      cookie: ['hello bob', 'bob said: hi'],
    });
  });

  it('a bad or missing token is a HandshakeError with status 401 and the server\'s WWW-Authenticate', async () => {
    const refused = { kind: 'UNEXPECTED_STATUS', status: 401, wwwAuthenticate: 'Bearer realm="example"' };
    expect(await resultOf('auth-upgrade.ts')).toMatchObject({ badToken: refused, noToken: refused });
  });

  it('a session cookie sent from another origin is refused with 403', async () => {
    expect(await resultOf('auth-upgrade.ts')).toMatchObject({ foreignOrigin: { kind: 'UNEXPECTED_STATUS', status: 403 } });
  });
});

describe('examples/wss-self-signed.ts', () => {
  it('a message round-trips over wss: with the generated certificate trusted through `ca`, then closes cleanly', async () => {
    const result = await resultOf('wss-self-signed.ts');
    expect(String(result.url)).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    expect(result).toMatchObject({ sent: 'hello over TLS', echoed: 'hello over TLS', closeCode: 1000, wasClean: true });
  });
});
