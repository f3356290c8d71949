import type { TurnStage, TurnTimingsEvent } from '../../../protocol/index.ts';
import { citationLabel } from '../../../protocol/index.ts';

/** Plain names for the stages, in the page's words. */
const STAGE_LABELS: Record<TurnStage['name'], string> = {
  end_of_turn: 'end of turn',
  transcription: 'transcript',
  retrieval: 'retrieval',
  llm: 'language model',
  tool: 'tool',
  tts: 'speech',
  playout: 'playback',
  interruption: 'interrupted',
};

/**
 * Where the time of one answer went: a collapsed `<details>` whose summary gives the
 * voice-to-voice time, and inside, one bar per stage on a shared time axis (ms from the
 * end of the user's speech), with each stage's duration and first output, then the
 * sources the answer cited.
 */
export function renderWaterfall(timings: TurnTimingsEvent, open: boolean): HTMLDetailsElement {
  const details = document.createElement('details');
  details.className = 'waterfall';
  details.open = open;
  const summary = document.createElement('summary');
  summary.textContent =
    timings.voiceToVoiceMs !== null
      ? `Timing: ${timings.voiceToVoiceMs} ms to first audio`
      : `Timing: ${Math.max(0, ...timings.stages.map((stage) => stage.endMs ?? stage.startMs))} ms`;
  details.append(summary);

  const from = Math.min(0, ...timings.stages.map((stage) => stage.startMs));
  const to = Math.max(1, ...timings.stages.map((stage) => stage.endMs ?? stage.startMs));
  const percent = (ms: number) => `${(((ms - from) / (to - from)) * 100).toFixed(2)}%`;
  const rows = document.createElement('ol');
  rows.className = 'stages';
  rows.setAttribute('aria-label', 'Stages, in ms from the end of your speech');
  const legend = document.createElement('p');
  legend.className = 'legend';
  legend.textContent =
    from < 0 ? 'Bars start at the end of your speech (the line); work left of it began while you spoke.' : '';
  for (const stage of timings.stages) {
    const row = document.createElement('li');
    row.className = `stage ${stage.name}`;
    const label = document.createElement('span');
    label.className = 'stage-name';
    const tool =
      stage.name === 'tool' && typeof stage.detail?.name === 'string' ? ` ${stage.detail.name}` : '';
    label.textContent = STAGE_LABELS[stage.name] + tool;
    const value = document.createElement('span');
    value.className = 'ms';
    value.textContent = describeStage(stage);
    const head = document.createElement('span');
    head.className = 'stage-head';
    head.append(label, value);
    const track = document.createElement('span');
    track.className = 'track';
    if (from < 0) {
      // Work that started before the end of speech (preemptive generation) lies left of it.
      const zero = document.createElement('span');
      zero.className = 'zero';
      zero.style.left = percent(0);
      track.append(zero);
    }
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.left = percent(stage.startMs);
    bar.style.width =
      stage.endMs === null ? '2px' : `max(2px, calc(${percent(stage.endMs)} - ${percent(stage.startMs)}))`;
    track.append(bar);
    if (stage.firstMs !== undefined) {
      const marker = document.createElement('span');
      marker.className = 'first';
      marker.style.left = percent(stage.firstMs);
      marker.title = `first output at ${stage.firstMs} ms`;
      track.append(marker);
    }
    row.append(head, track);
    rows.append(row);
  }
  details.append(rows);
  if (legend.textContent !== '') details.append(legend);
  if (timings.citations.length > 0) {
    const cited = document.createElement('p');
    cited.className = 'cited';
    cited.textContent = `Cited: ${timings.citations.map((citation) => citationLabel(citation)).join('; ')}`;
    details.append(cited);
  }
  return details;
}

/** "420 ms", "620 ms, first 380", "at 1200 ms" for points, "cut" for unfinished stages. */
function describeStage(stage: TurnStage): string {
  if (stage.name === 'interruption') return `at ${stage.startMs} ms`;
  if (stage.endMs === null) return 'cut';
  const duration = `${stage.endMs - stage.startMs} ms`;
  return stage.firstMs === undefined ? duration : `${duration}, first ${stage.firstMs - stage.startMs}`;
}
