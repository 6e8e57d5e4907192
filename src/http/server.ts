/**
 * The uWebSockets.js app and its listen socket. Only src/http and src/ws know uWS; the
 * composition root asks for an app, lets each transport register its routes, then listens.
 */
import uWS from 'uWebSockets.js';

export type App = uWS.TemplatedApp;

export function createApp(): App {
  return uWS.App();
}

export interface Listening {
  port: number;
  /** Stops accepting new connections; open ones finish their requests. */
  stop(): void;
}

export function listen(app: App, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (socket === false) {
        reject(new Error(`cannot listen on ${host}:${port}`));
        return;
      }
      let open = true;
      resolve({
        port: uWS.us_socket_local_port(socket as unknown as uWS.us_socket),
        stop: () => {
          if (open) uWS.us_listen_socket_close(socket);
          open = false;
        },
      });
    });
  });
}
