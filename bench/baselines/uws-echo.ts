/**
 * Baseline: the ceiling of this machine for WebSocket request/answer traffic. uWebSockets.js
 * sends every message back as it came (text stays text, binary stays binary) on /ws, so a
 * client that matches answers to requests by `id` can run the ws-mix against it unchanged.
 * Env: PORT (0 = any), HOST. Prints `{"event":"listening","port":N}` on stdout.
 */
import uWS from 'uWebSockets.js';

const app = uWS.App();
app.ws('/ws', {
  maxPayloadLength: 100 * 1024,
  idleTimeout: 120,
  message: (ws, message, isBinary) => {
    ws.send(message, isBinary);
  },
});
app.any('/*', (res) => {
  res.writeStatus('404 Not Found').end('{"error":"Not Found"}');
});
app.listen(process.env.HOST ?? '127.0.0.1', Number(process.env.PORT ?? 0), (socket) => {
  if (socket === false) {
    process.stderr.write('uws-echo: cannot listen\n');
    process.exit(1);
  }
  const port = uWS.us_socket_local_port(socket as unknown as uWS.us_socket);
  process.stdout.write(`${JSON.stringify({ event: 'listening', port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
