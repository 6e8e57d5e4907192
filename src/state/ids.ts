/**
 * Unpredictable ids with the original prefixes (CONTRACT decision #19): knowing one id must not
 * let anyone guess another session's id. 16 random bytes for a session, 8 for an artifact (its
 * id only has to be unique within its session).
 */
import { randomBytes } from 'node:crypto';

export function newSessionId(): string {
  return `session_${randomBytes(16).toString('base64url')}`;
}

export function newArtifactId(index: number): string {
  return `artifact_${index}_${randomBytes(8).toString('base64url')}`;
}
