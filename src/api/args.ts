/**
 * The argument readers of every command, one per request body of CONTRACT §1.6 and §4, with the
 * original's error strings. Both transports use these: a WS op and its HTTP twin can never
 * disagree on what is valid.
 */
import type { ArtifactStatus } from '../model/protocol.js';
import { DEFAULT_DURATION_SECONDS } from '../state/sessions.js';
import { field, finiteNumber, Invalid, oneOf, trimmedString } from './fields.js';

const MAX_ARTIFACT_ID_LENGTH = 80;
const MAX_PLAYER_TAG_LENGTH = 24;
const MAX_REMAINING_UNCHECKED = 9999;

const duration = field(
  'requestedDurationSeconds',
  { anyOf: [{ ...finiteNumber, minimum: 10, maximum: 600 }, { enum: [null, 0, '', false] }] },
  'requestedDurationSeconds must be between 10 and 600',
  // Falsy values (missing, null, 0, "", false) mean the default, as in the original.
  (value) => (value ? (value as number) : DEFAULT_DURATION_SECONDS),
  'optional',
);

const coordinate = (name: 'x' | 'y') => field(name, finiteNumber, 'x and y are required', (v) => v as number);
const x = coordinate('x');
const y = coordinate('y');

const statusArtifactId = field(
  'artifactId',
  { type: 'string' },
  'artifactId and valid status are required',
  trimmedString(MAX_ARTIFACT_ID_LENGTH),
);
// `inAir` is accepted and stored in its canonical spelling (CONTRACT decision #2).
const artifactStatus = field(
  'status',
  { type: 'string' },
  'artifactId and valid status are required',
  oneOf<ArtifactStatus>('ground', 'flying', 'deposited', 'carried', 'inAir'),
);

const depositArtifactId = field('artifactId', { type: 'string' }, 'artifactId is required', trimmedString(MAX_ARTIFACT_ID_LENGTH));

const endResult = field(
  'result',
  { anyOf: [{ type: 'string' }, { type: 'null' }] },
  'result must be won or lost',
  (value) => (value === null || value === undefined ? null : oneOf('won', 'lost')(value)),
  'optional',
);

const playerTag = field('playerTag', { type: 'string' }, 'playerTag is required', trimmedString(MAX_PLAYER_TAG_LENGTH));
const scoreResult = field('result', { type: 'string' }, 'result must be won or lost', oneOf('won', 'lost'));
const remainingUnchecked = field(
  'remainingUnchecked',
  { anyOf: [{ ...finiteNumber, minimum: 0, maximum: MAX_REMAINING_UNCHECKED }, { type: 'null' }] },
  'remainingUnchecked must be a non-negative number',
  (value) => (value === null || value === undefined ? 0 : (value as number)),
  'optional',
);

type Body = Record<string, unknown>;

export function readCreate(body: Body): { durationSeconds: number } | Invalid {
  const durationSeconds = duration.read(body);
  return durationSeconds instanceof Invalid ? durationSeconds : { durationSeconds };
}

export function readSpawn(body: Body): { x: number; y: number } | Invalid {
  const xv = x.read(body);
  if (xv instanceof Invalid) return xv;
  const yv = y.read(body);
  return yv instanceof Invalid ? yv : { x: xv, y: yv };
}

export function readArtifactStatus(body: Body): { artifactId: string; status: ArtifactStatus } | Invalid {
  const artifactId = statusArtifactId.read(body);
  if (artifactId instanceof Invalid) return artifactId;
  const status = artifactStatus.read(body);
  return status instanceof Invalid ? status : { artifactId, status };
}

export function readDeposit(body: Body): { artifactId: string } | Invalid {
  const artifactId = depositArtifactId.read(body);
  return artifactId instanceof Invalid ? artifactId : { artifactId };
}

export function readEnd(body: Body): { result: 'won' | 'lost' | null } | Invalid {
  const result = endResult.read(body);
  return result instanceof Invalid ? result : { result };
}

export function readHighScore(
  body: Body,
): { playerTag: string; result: 'won' | 'lost'; remainingUnchecked: number } | Invalid {
  const tag = playerTag.read(body);
  if (tag instanceof Invalid) return tag;
  const result = scoreResult.read(body);
  if (result instanceof Invalid) return result;
  const remaining = remainingUnchecked.read(body);
  return remaining instanceof Invalid ? remaining : { playerTag: tag, result, remainingUnchecked: remaining };
}
