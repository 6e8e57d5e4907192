/**
 * The online backup: SIGUSR2 to a running server writes a consistent copy of everything committed,
 * and a server started on that copy serves the same data.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ChildServer, startChild, tempDir } from './helpers/child-server.js';

const dirs: Array<{ cleanup(): void }> = [];
const servers: ChildServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop('SIGKILL');
  for (const d of dirs) d.cleanup();
});

describe('online backup', () => {
  it('writes a copy on SIGUSR2 that a new server starts from with the same high scores and stats', async () => {
    const tmp = tempDir();
    dirs.push(tmp);
    const server = await startChild({ VIBEFIXER_DB_PATH: join(tmp.dir, 'db.sqlite') });
    servers.push(server);
    const post = (path: string, body: unknown) =>
      fetch(server.url + path, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json() as Promise<Record<string, unknown>>);
    await post('/api/high-scores', { playerTag: 'backup-me', result: 'won' });
    await post('/api/sessions', null);
    const stats = await fetch(server.url + '/api/sessions/stats').then((r) => r.json());

    server.proc.kill('SIGUSR2');
    const done = await server.waitForLog((l) => l.event === 'backup_done');
    const backupFile = done.destPath as string;
    expect(backupFile.startsWith(join(tmp.dir, 'backups'))).toBe(true);
    expect(existsSync(backupFile)).toBe(true);

    const restored = join(tmp.dir, 'restored.sqlite');
    copyFileSync(backupFile, restored);
    const second = await startChild({ VIBEFIXER_DB_PATH: restored });
    servers.push(second);
    const scores = (await fetch(second.url + '/api/high-scores').then((r) => r.json())) as { scores: Array<{ playerTag: string }> };
    expect(scores.scores.map((s) => s.playerTag)).toEqual(['backup-me']);
    const restoredStats = (await fetch(second.url + '/api/sessions/stats').then((r) => r.json())) as Record<string, unknown>;
    expect(restoredStats.startedCount).toBe((stats as Record<string, unknown>).startedCount);
    expect(restoredStats.activeCount).toBe(1);
  });
});
