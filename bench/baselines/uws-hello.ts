/**
 * Baseline: the ceiling of this machine for HTTP. uWebSockets.js answering every request with a
 * small JSON at once (the body, if any, is ignored), with the same Content-Type. Whatever the
 * server does per request costs throughput relative to this.
 * Env: PORT (0 = any), HOST. Prints `{"event":"listening","port":N}` on stdout.
 */
import uWS from 'uWebSockets.js';

const BODY = '{"ok":true}';
const app = uWS.App();
app.any('/*', (res) => {
  res.cork(() => {
    res.writeStatus('200 OK').writeHeader('Content-Type', 'application/json').end(BODY);
  });
});
app.listen(process.env.HOST ?? '127.0.0.1', Number(process.env.PORT ?? 0), (socket) => {
  if (socket === false) {
    process.stderr.write('uws-hello: cannot listen\n');
    process.exit(1);
  }
  const port = uWS.us_socket_local_port(socket as unknown as uWS.us_socket);
  process.stdout.write(`${JSON.stringify({ event: 'listening', port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
