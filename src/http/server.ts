/**
 * The uWebSockets.js app and its listen socket. Only src/http and src/ws know uWS; the
 * composition root asks for an app, lets each transport register its routes, then listens.
 */
import uWS from 'uWebSockets.js';

export type App = uWS.TemplatedApp;

/**
 * uWS marks every answer with `uWebSockets: 20` unless its loop is "silent"; this build has no
 * typed option for it, only the undocumented `_cfg('silent')` (it sets the loop's no-mark flag), so
 * it is called before the app exists. A test checks that no answer carries the header.
 */
export function createApp(): App {
  uWS._cfg('silent');
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
