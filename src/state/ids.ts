/**
 * Unpredictable ids with the original prefixes (CONTRACT decision #19): knowing one id must not
 * let anyone guess another session's id. 16 random bytes for a session, 8 for an artifact (its
 * id only has to be unique within its session).
 */
import { randomToken } from '../game/seed.js';

export function newSessionId(): string {
  return `session_${randomToken(16)}`;
}

export function newArtifactId(index: number): string {
  return `artifact_${index}_${randomToken(8)}`;
}
