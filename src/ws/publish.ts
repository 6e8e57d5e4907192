/**
 * Pub/sub on the uWS app, in both encodings: every topic exists twice, as itself for JSON
 * subscribers and with a `bin:` prefix for msgpack ones (a subscriber gets pushes in the encoding
 * it subscribed with). A push is encoded only for an encoding somebody follows.
 */
import type { App } from '../http/server.js';
import { encode, pushFrame } from './frames.js';

const BINARY_PREFIX = 'bin:';

/** The uWS topic a subscriber of `topic` joins, by the encoding of its frames. */
export function wireTopic(topic: string, binary: boolean): string {
  return binary ? BINARY_PREFIX + topic : topic;
}

export function followed(app: App, topic: string): boolean {
  return app.numSubscribers(topic) > 0 || app.numSubscribers(BINARY_PREFIX + topic) > 0;
}

/** Publishes `{topic, data}` to the JSON and the msgpack subscribers of `topic`. */
export function publishBoth(app: App, topic: string, data: unknown): void {
  const frame = pushFrame(topic, data);
  if (app.numSubscribers(topic) > 0) app.publish(topic, encode(frame, false) as string, false);
  const bin = BINARY_PREFIX + topic;
  if (app.numSubscribers(bin) > 0) app.publish(bin, encode(frame, true), true);
}
