/**
 * What a file really is, decided from its bytes. The name and the declared
 * MIME type are only claims: they are used to refuse a file whose bytes
 * contradict them in a way that matters (a text file named .pdf), and to tell
 * Markdown from plain text, which the bytes cannot.
 */
import { fileTypeFromBuffer } from 'file-type';
import { describeBytes, MediaError } from './errors.ts';
import type { MediaLimits } from './limits.ts';
import { decodeUtf8Text, hasUtf16ByteOrderMark, looksLikeHtml, looksLikeSvg } from './text-detection.ts';

/** The kinds of file the assistant reads. */
export type MediaKind = 'image' | 'pdf' | 'recording' | 'text' | 'markdown' | 'html';

/** What the sender says the file is. Both parts are optional and untrusted. */
export interface MediaClaim {
  /** The file's name as uploaded, e.g. "scan.PDF". */
  readonly fileName?: string | undefined;
  /** The declared MIME type, e.g. from a browser or a LiveKit byte stream. */
  readonly mimeType?: string | undefined;
}

interface IdentifiedBase {
  /** The MIME type the bytes show, e.g. "image/png" even for a file named .jpg. */
  readonly mime: string;
  /** The usual extension for that type, without a dot. */
  readonly extension: string;
  /**
   * Set when the claim disagreed with the bytes but the file was still
   * accepted (a PNG named .jpg): a plain sentence worth logging or showing.
   */
  readonly note: string | undefined;
}

/** An image, a PDF or a recording (audio, or a video's sound): binary, for image.ts, pdf.ts or recording.ts. */
export interface IdentifiedBinary extends IdentifiedBase {
  readonly kind: 'image' | 'pdf' | 'recording';
}

/** A text file, already decoded: validating UTF-8 requires decoding it anyway. */
export interface IdentifiedText extends IdentifiedBase {
  readonly kind: 'text' | 'markdown' | 'html';
  /** The content, without a byte-order mark. */
  readonly text: string;
}

export type IdentifiedMedia = IdentifiedBinary | IdentifiedText;

/** Image types sharp's prebuilt binaries decode, which vision models can then be sent. */
const SUPPORTED_IMAGE_MIMES = new Set([
  'image/jpeg',
  'image/png',
  'image/apng',
  'image/webp',
  'image/gif',
  'image/avif',
  'image/tiff',
]);

/**
 * Containers of recordings, by the extension file-type gives them: what Deepgram's
 * pre-recorded API and OpenAI's transcription both take. A video counts for its sound.
 */
const SUPPORTED_RECORDING_EXTENSIONS = new Set([
  'wav',
  'mp3',
  'm4a',
  'aac',
  'ogg',
  'oga',
  'opus',
  'webm',
  'flac',
  'mp4',
  'm4v',
  'mov',
]);

const SUPPORTED_LIST =
  'an image (JPEG, PNG, WebP, GIF, AVIF or TIFF), a PDF, a text, Markdown or HTML file, ' +
  'or a recording (WAV, MP3, M4A, Ogg/Opus, WebM, FLAC, or an MP4, WebM or MOV video)';

const KIND_BY_EXTENSION: Readonly<Record<string, MediaKind>> = {
  pdf: 'pdf',
  jpg: 'image',
  jpeg: 'image',
  jpe: 'image',
  jfif: 'image',
  png: 'image',
  apng: 'image',
  webp: 'image',
  gif: 'image',
  avif: 'image',
  heic: 'image',
  heif: 'image',
  tif: 'image',
  tiff: 'image',
  bmp: 'image',
  txt: 'text',
  text: 'text',
  md: 'markdown',
  markdown: 'markdown',
  mdown: 'markdown',
  mkd: 'markdown',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  wav: 'recording',
  mp3: 'recording',
  m4a: 'recording',
  aac: 'recording',
  ogg: 'recording',
  oga: 'recording',
  opus: 'recording',
  weba: 'recording',
  webm: 'recording',
  flac: 'recording',
  mp4: 'recording',
  m4v: 'recording',
  mov: 'recording',
};

/** How each kind is named in messages ("it is not a PDF"). */
const KIND_NAMES: Readonly<Record<MediaKind, string>> = {
  image: 'an image',
  pdf: 'a PDF',
  recording: 'a recording',
  text: 'a text file',
  markdown: 'a Markdown file',
  html: 'an HTML file',
};

function extensionOf(fileName: string | undefined): string | undefined {
  const match = fileName === undefined ? null : /\.([A-Za-z0-9]+)$/.exec(fileName.trim());
  return match?.[1]?.toLowerCase();
}

function kindOfMime(mimeType: string | undefined): MediaKind | undefined {
  // Parameters such as "; charset=utf-8" do not change the kind.
  const mime = mimeType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mime === 'application/pdf') return 'pdf';
  if (mime === 'text/markdown' || mime === 'text/x-markdown') return 'markdown';
  if (mime === 'text/html' || mime === 'application/xhtml+xml') return 'html';
  if (mime === 'text/plain') return 'text';
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('audio/') || mime.startsWith('video/')) return 'recording';
  // application/octet-stream, an empty string and anything else claim nothing.
  return undefined;
}

const isTextFamily = (kind: MediaKind): boolean => kind === 'text' || kind === 'markdown' || kind === 'html';

/** Kinds that can stand in for each other without refusing the file. */
function sameFamily(claimed: MediaKind, detected: MediaKind): boolean {
  return claimed === detected || (isTextFamily(claimed) && isTextFamily(detected));
}

/** What the bytes are, before the claim is considered. */
type Detection =
  | { kind: 'image' | 'pdf' | 'recording'; mime: string; extension: string }
  | { kind: 'text-family'; text: string }
  | {
      kind: 'unsupported';
      /** The kind a claim may name without contradicting the bytes (a .heic file is an image, just not one we read). */
      family: MediaKind | undefined;
      label: string;
      hint?: string;
    };

async function detect(bytes: Uint8Array): Promise<Detection> {
  // Checked first: file-type mistakes a UTF-16 byte-order mark for MPEG audio.
  if (hasUtf16ByteOrderMark(bytes)) {
    return {
      kind: 'unsupported',
      family: 'text',
      label: 'a UTF-16 text file',
      hint: 'Save it as UTF-8 and upload it again.',
    };
  }
  const found = await fileTypeFromBuffer(bytes);
  // file-type calls any XML "application/xml"; XHTML and plain XML are text to us, SVG is handled below.
  if (found !== undefined && found.mime !== 'application/xml') {
    // Adobe Illustrator files are PDFs inside, and pdf.js reads them.
    if (found.mime === 'application/pdf' || found.ext === 'ai') {
      return { kind: 'pdf', mime: 'application/pdf', extension: 'pdf' };
    }
    if (SUPPORTED_IMAGE_MIMES.has(found.mime))
      return { kind: 'image', mime: found.mime, extension: found.ext };
    const mime = found.mime.split(';')[0]?.trim() ?? found.mime;
    const isRecording = mime.startsWith('audio/') || mime.startsWith('video/');
    if (isRecording && SUPPORTED_RECORDING_EXTENSIONS.has(found.ext))
      return { kind: 'recording', mime, extension: found.ext };
    const family = mime.startsWith('image/') ? 'image' : isRecording ? 'recording' : undefined;
    if (found.mime === 'image/heic' || found.mime === 'image/heif') {
      return {
        kind: 'unsupported',
        family,
        label: 'a HEIC photo',
        // sharp's prebuilt libheif decodes AVIF only; HEVC needs a custom build.
        hint: 'Export it as JPEG (on an iPhone: Settings > Camera > Formats > Most Compatible) and upload it again.',
      };
    }
    if (isRecording) {
      return {
        kind: 'unsupported',
        family,
        label: `a .${found.ext} recording (${mime})`,
        hint: 'Save it as MP3, M4A, WAV or FLAC (or a video as MP4) and upload it again.',
      };
    }
    return { kind: 'unsupported', family, label: `a .${found.ext} file (${found.mime})` };
  }
  const text = decodeUtf8Text(bytes);
  if (text === undefined)
    return { kind: 'unsupported', family: undefined, label: 'a kind of file we do not recognise' };
  if (looksLikeSvg(text)) {
    return {
      kind: 'unsupported',
      family: 'image',
      label: 'an SVG image',
      hint: 'Export it as PNG and upload it again.',
    };
  }
  return { kind: 'text-family', text };
}

function textKind(text: string, claimed: readonly MediaKind[]): 'text' | 'markdown' | 'html' {
  // Markdown is only known from the claim: any text is valid Markdown.
  if (claimed.includes('markdown')) return 'markdown';
  if (claimed.includes('html') || looksLikeHtml(text)) return 'html';
  return 'text';
}

const TEXT_TYPES = {
  text: { mime: 'text/plain', extension: 'txt' },
  markdown: { mime: 'text/markdown', extension: 'md' },
  html: { mime: 'text/html', extension: 'html' },
} as const;

/**
 * Identifies an upload from its bytes and checks the byte limit.
 *
 * Throws {@link MediaError}: `empty`, `too-large`, `unsupported-type`, or
 * `type-mismatch` when the claim names another kind of file than the bytes
 * are (a text file named .pdf, a PDF named .jpg). A claim of the same kind but
 * another format (a PNG named .jpg) is accepted by its bytes, with a `note`.
 * Only the container is checked here: a truncated PDF or JPEG still passes,
 * and fails later in pdf.ts or image.ts.
 */
export async function identifyMedia(
  bytes: Uint8Array,
  claim: MediaClaim,
  limits: Pick<MediaLimits, 'maxBytes'>,
): Promise<IdentifiedMedia> {
  const fileName = claim.fileName?.trim() ? `"${claim.fileName.trim()}"` : 'This file';
  if (bytes.length === 0) {
    throw new MediaError('empty', `${fileName} is empty (0 bytes), so there is nothing to read.`);
  }
  if (bytes.length > limits.maxBytes) {
    throw new MediaError(
      'too-large',
      `${fileName} is ${describeBytes(bytes.length)}; the limit is ${describeBytes(limits.maxBytes)}.`,
    );
  }

  const extension = extensionOf(claim.fileName);
  const extensionKind = extension === undefined ? undefined : KIND_BY_EXTENSION[extension];
  const mimeKind = kindOfMime(claim.mimeType);
  const claims: { kind: MediaKind; source: string }[] = [];
  if (extensionKind !== undefined) claims.push({ kind: extensionKind, source: `is named .${extension}` });
  if (mimeKind !== undefined) claims.push({ kind: mimeKind, source: `was sent as ${claim.mimeType}` });

  const detection = await detect(bytes);
  const family: MediaKind | undefined =
    detection.kind === 'text-family'
      ? 'text'
      : detection.kind === 'unsupported'
        ? detection.family
        : detection.kind;
  const contradiction = claims.find((entry) => family === undefined || !sameFamily(entry.kind, family));
  if (contradiction !== undefined) {
    throw new MediaError(
      'type-mismatch',
      `${fileName} ${contradiction.source}, but it is not ${KIND_NAMES[contradiction.kind]}: ` +
        `its contents are ${describeDetection(detection)}. Check that you picked the right file.`,
    );
  }
  if (detection.kind === 'unsupported') {
    const hint = detection.hint ?? `Upload ${SUPPORTED_LIST}.`;
    throw new MediaError(
      'unsupported-type',
      `${fileName} is ${detection.label}, which is not supported. ${hint}`,
    );
  }

  if (detection.kind === 'text-family') {
    const kind = textKind(
      detection.text,
      claims.map((entry) => entry.kind),
    );
    return { kind, ...TEXT_TYPES[kind], text: detection.text, note: undefined };
  }

  let note: string | undefined;
  if (detection.kind === 'image') {
    const format = detection.extension.toUpperCase();
    if (extensionKind === 'image' && !sameImageFormat(extension, detection.extension)) {
      note = `${fileName} is named .${extension} but contains a ${format} image; it was read as ${format}.`;
    } else if (mimeKind === 'image' && !sameImageMime(claim.mimeType, detection.mime)) {
      note = `${fileName} was sent as ${claim.mimeType} but contains a ${format} image; it was read as ${format}.`;
    }
  }
  return { kind: detection.kind, mime: detection.mime, extension: detection.extension, note };
}

function describeDetection(detection: Detection): string {
  if (detection.kind === 'unsupported') return detection.label;
  if (detection.kind === 'text-family') return looksLikeHtml(detection.text) ? 'HTML text' : 'plain text';
  return `${KIND_NAMES[detection.kind]} (${detection.mime})`;
}

/** Spellings of one format: .jpeg and .jpg are the same JPEG, .tif and .tiff the same TIFF. */
function sameImageFormat(claimedExtension: string | undefined, detectedExtension: string): boolean {
  const canonical = (extension: string): string =>
    ({ jpeg: 'jpg', jpe: 'jpg', jfif: 'jpg', tif: 'tiff', apng: 'png' })[extension] ?? extension;
  return claimedExtension !== undefined && canonical(claimedExtension) === canonical(detectedExtension);
}

/** "image/jpg" is a common misspelling of "image/jpeg", and an APNG is a PNG to anyone who sends one. */
function sameImageMime(claimedMime: string | undefined, detectedMime: string): boolean {
  const canonical = (mime: string): string =>
    ({ 'image/jpg': 'image/jpeg', 'image/pjpeg': 'image/jpeg', 'image/apng': 'image/png' })[mime] ?? mime;
  const claimed = claimedMime?.split(';')[0]?.trim().toLowerCase() ?? '';
  return canonical(claimed) === canonical(detectedMime);
}
