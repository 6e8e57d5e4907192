/**
 * Markdown for bench results: a cell for a median with its spread, ratio and target cells, and
 * the rendering of a whole result (header, tables, targets, notes) used by both the scripts'
 * own output and bench/RESULTS.md.
 */
import type { BenchResult, Table } from './result.js';
import type { Summary } from './stats.js';

function num(v: number, decimals: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  return v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** "12,345 (11,900–12,800)": median, then min–max across trials. */
export function cell(s: Summary | undefined, decimals = 0, unit = ''): string {
  if (s === undefined || s.n === 0) return 'n/a';
  if (s.n === 1) return `${num(s.median, decimals)}${unit}`;
  return `${num(s.median, decimals)}${unit} (${num(s.min, decimals)}–${num(s.max, decimals)})`;
}

export function ratioCell(r: number, decimals = 2): string {
  return Number.isFinite(r) ? `${num(r, decimals)}×` : 'n/a';
}

export function plain(v: number, decimals = 0, unit = ''): string {
  return Number.isFinite(v) ? `${num(v, decimals)}${unit}` : 'n/a';
}

export function renderTable(t: Table): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [`| ${t.columns.map(esc).join(' | ')} |`, `|${t.columns.map(() => '---').join('|')}|`];
  for (const row of t.rows) lines.push(`| ${row.map(esc).join(' | ')} |`);
  return lines.join('\n');
}

export function renderResult(r: BenchResult, headingLevel = 2): string {
  const h = '#'.repeat(headingLevel);
  const hd = r.header;
  const env = Object.entries(hd.env).map(([k, v]) => `${k}=${v}`).join(' ');
  const settings = Object.entries(hd.settings).map(([k, v]) => `${k}=${v}`).join(', ');
  const out = [
    `${h} ${r.name}`,
    '',
    `**Question:** ${r.question}`,
    '',
    `- date ${hd.date}, commit \`${hd.commit}\`${hd.uncommittedFiles > 0 ? ` (+${hd.uncommittedFiles} uncommitted files)` : ''}, server build \`${hd.build ?? 'n/a'}\` (dist/ compiled ${hd.builtAt ?? 'n/a'}), Node ${hd.node}`,
    `- CPU ${hd.cpu} × ${hd.cores}, load average at start ${hd.loadAvg1m}${hd.otherBenches > 0 ? `, **${hd.otherBenches} other bench processes were running at start: figures are contaminated**` : ''}`,
    `- ${hd.quick ? 'QUICK mode' : 'full mode'}, ${hd.trials} trials per row, each in a fresh process`,
    `- env: \`${env || '(none)'}\``,
    `- settings: ${settings || '(none)'}`,
    '',
  ];
  for (const t of r.tables) out.push(`**${t.title}** (median, min–max across trials)`, '', renderTable(t), '');
  if (r.targets.length > 0) {
    out.push(
      renderTable({
        title: 'targets',
        columns: ['target', 'wanted', 'measured (median)', 'met'],
        rows: r.targets.map((t) => [t.what, t.target, t.measured, t.met === null ? 'not measured' : t.met ? 'yes' : '**NO**']),
      }),
      '',
    );
  }
  for (const n of r.notes) out.push(`- ${n}`);
  return out.join('\n');
}
