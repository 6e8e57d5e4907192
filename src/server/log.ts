/**
 * Structured JSON logs on stdout (pino), one line per event. The `event` field names what
 * happened (`listening`, `reload_done`, `batch_failed`, ...) so operators can filter on it.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config.js';

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'vibefixer-server' }, timestamp: pino.stdTimeFunctions.isoTime });
}
