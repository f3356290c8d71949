import { formatTimestamp, recordingMediaPath, type Citation } from '../../../protocol/index.ts';

/**
 * A small play control beside a recording's citation: it plays the stored upload from
 * the cited moment (the server answers Range requests, so the audio element seeks
 * without downloading the whole file). A recording that cannot be played (ingested by
 * the command, not uploaded by this person) says so instead.
 */
export function citationPlayControl(citation: Citation): HTMLElement | undefined {
  if (citation.startMs === undefined || citation.startMs === null) return undefined;
  const seconds = citation.startMs / 1000;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'play-moment';
  button.textContent = '▶';
  button.setAttribute('aria-label', `Play ${citation.title} from ${formatTimestamp(citation.startMs)}`);
  let audio: HTMLAudioElement | undefined;
  button.addEventListener('click', () => {
    if (!audio) {
      audio = document.createElement('audio');
      audio.preload = 'metadata';
      audio.controls = true;
      // The media fragment starts playback at the moment; currentTime below covers browsers that ignore it.
      audio.src = `${recordingMediaPath(citation.documentId)}#t=${seconds}`;
      audio.addEventListener('error', () => {
        button.disabled = true;
        button.title = 'This recording cannot be played here.';
      });
      button.after(audio);
    }
    if (!audio.paused) {
      audio.pause();
      button.textContent = '▶';
      return;
    }
    audio.currentTime = seconds;
    button.textContent = '❚❚';
    audio.play().catch(() => {
      button.textContent = '▶';
    });
    audio.onended = () => {
      button.textContent = '▶';
    };
  });
  return button;
}
