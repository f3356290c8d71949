import type { StoredTurn } from '../db/index.ts';
import { formatTimestamp } from '../protocol/index.ts';

/** Stages in the order a turn runs them, as table columns. */
const COLUMNS = [
  ['end_of_turn', 'eot'],
  ['transcription', 'stt'],
  ['retrieval', 'retrieve'],
  ['llm', 'llm 1st'],
  ['tool', 'tools'],
  ['tts', 'tts 1st'],
  ['playout', 'playout'],
] as const;

/**
 * One line per turn for `npm run turns`: when, the stage timings in ms (a stage's
 * duration, or for `llm` and `tts` the time to their first token or first audio),
 * voice-to-voice, then the question, the sources retrieved and the ones cited.
 */
export function formatTurnTable(turns: readonly StoredTurn[]): string {
  if (turns.length === 0) return 'No turns recorded yet.';
  const header = ['started (UTC)', 'turn', ...COLUMNS.map(([, label]) => label), 'v2v', 'flags'];
  const rows = turns.map((turn) => [
    turn.startedAt.toISOString().replace('T', ' ').slice(0, 19),
    turn.id.slice(0, 8),
    ...COLUMNS.map(([name]) => stageCell(turn, name)),
    turn.voiceToVoiceMs === null ? '-' : String(Math.round(turn.voiceToVoiceMs)),
    [turn.modality === 'text' ? 'typed' : '', turn.interrupted ? 'interrupted' : '']
      .filter(Boolean)
      .join(',') || '-',
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  const lines = [line(header)];
  for (const [index, turn] of turns.entries()) {
    lines.push(line(rows[index] ?? []));
    if (turn.question) lines.push(`    asked: ${oneLine(turn.question)}`);
    if (turn.sources.length > 0) lines.push(`    retrieved: ${turn.sources.map(describeSource).join('; ')}`);
    if (turn.citations.length > 0) lines.push(`    cited: ${turn.citations.map(describeSource).join('; ')}`);
  }
  return lines.join('\n');
}

/** A stage's duration (tools: their sum), or the time to its first output for llm and tts. */
function stageCell(turn: StoredTurn, name: string): string {
  const stages = turn.stages.filter((stage) => stage.name === name);
  if (stages.length === 0) return '-';
  if (name === 'llm' || name === 'tts') {
    const first = stages[0];
    if (first?.firstMs === undefined) return first?.endMs === null ? 'cut' : '-';
    return String(first.firstMs - first.startMs);
  }
  const total = stages.reduce((sum, stage) => sum + (stage.endMs ?? stage.startMs) - stage.startMs, 0);
  return stages.length > 1 ? `${total} (${stages.length})` : String(total);
}

function describeSource(source: { title: string; page: number | null; startMs?: number | null }): string {
  if (source.startMs !== undefined && source.startMs !== null)
    return `${source.title} ${formatTimestamp(source.startMs)}`;
  return source.page === null ? source.title : `${source.title} p.${source.page}`;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 100 ? `${flat.slice(0, 99)}…` : flat;
}
