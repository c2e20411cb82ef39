// A `wss:` server with a self-signed certificate, and a client that trusts exactly that
// certificate (the `ca` TLS option) instead of turning verification off.
//
//   node examples/out/wss-self-signed.js                                  server and client in one process
//   node examples/out/wss-self-signed.js --key key.pem --cert cert.pem     with your own key and certificate
//   (or TLS_KEY=key.pem TLS_CERT=cert.pem). The certificate must name 127.0.0.1 in its
//   subjectAltName, the host the client connects to. Without a key and certificate, a fresh
//   pair is made with the `openssl` command in a temporary folder, valid for a day.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, serve } from 'websocket-streams/node';

interface KeyPair {
  readonly key: Buffer;
  readonly cert: Buffer;
}

/** A P-256 key and a certificate for 127.0.0.1 and localhost, signed by that key itself. */
function generateSelfSigned(): KeyPair {
  const dir = mkdtempSync(join(tmpdir(), 'wss-example-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
      // Clients check the host they dialled against subjectAltName, not CN (RFC 6125 §6.4.4).
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: 'ignore' });
    return { key: readFileSync(key), cert: readFileSync(cert) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function keyPair(): KeyPair {
  const { values } = parseArgs({ options: { key: { type: 'string' }, cert: { type: 'string' } } });
  const key = values.key ?? process.env.TLS_KEY;
  const cert = values.cert ?? process.env.TLS_CERT;
  if (key === undefined && cert === undefined) return generateSelfSigned();
  if (key === undefined || cert === undefined) throw new TypeError('Give both --key and --cert (or TLS_KEY and TLS_CERT), or neither');
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

async function main(): Promise<boolean> {
  const { key, cert } = keyPair();
  const server = await serve({ host: '127.0.0.1', port: 0, tls: { key, cert } }, (conn) => conn.readable.pipeTo(conn.writable));
  try {
    // server.url is wss://127.0.0.1:<port>. `ca: cert` makes this certificate the only one
    // trusted for this connection (node's built-in CAs are not consulted).
    //
    // Without `ca`, connect() rejects with a HandshakeError whose kind is 'CONNECTION_FAILED':
    //   Could not open a WebSocket connection to wss://127.0.0.1:<port>/: self-signed certificate
    // and `err.cause.code` is 'DEPTH_ZERO_SELF_SIGNED_CERT'. Do not "fix" that with
    // `rejectUnauthorized: false`: it accepts any certificate, so anyone on the path can read
    // and change the traffic.
    const conn = await connect(server.url, { tls: { ca: cert } });
    const sent = 'hello over TLS';
    await conn.send(sent);
    const echoed = await (await conn.nextMessage())?.text();
    const closed = await conn.close(1000);
    const ok = echoed === sent && closed.wasClean;
    // The result line (see examples/README.md): read by spec/examples/examples.spec.ts.
    console.log(`RESULT ${JSON.stringify({ ok, url: server.url, sent, echoed, closeCode: closed.code, wasClean: closed.wasClean })}`);
    return ok;
  } finally {
    await server.close();
  }
}

main().then((ok) => {
  if (!ok) process.exitCode = 1;
}, (err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
