/**
 * Media handling: what an upload really is, the limits it is held to, images
 * normalized for vision models, camera frames, and PDFs (text and rendered
 * scans). Pure media work: nothing here imports the rest of the app or reads
 * the environment.
 */
export { encodeCameraFrame } from './camera-frame.ts';
export type { CameraFrameOptions, EncodedCameraFrame, RawVideoFrame } from './camera-frame.ts';
export { describeBytes, MediaError } from './errors.ts';
export { cleanFileName } from './file-name.ts';
export type { MediaErrorCode } from './errors.ts';
export { normalizeImage } from './image.ts';
export type { NormalizedImage, NormalizeImageOptions } from './image.ts';
export { fitWithin, scaleToFit, VISION_IMAGE_BOUNDS } from './limits.ts';
export type { ImageBounds, MediaLimits, PixelSize } from './limits.ts';
export { extractPdfText, findPagesWithoutText, inspectPdf, renderPdfPages } from './pdf.ts';
export type { PdfPageText, PdfSummary, RenderedPdfPage, RenderPdfPagesOptions } from './pdf.ts';
export { identifyMedia } from './sniff.ts';
export type { IdentifiedBinary, IdentifiedMedia, IdentifiedText, MediaClaim, MediaKind } from './sniff.ts';
export { describeDuration, inspectRecording } from './recording.ts';
export type { RecordingSummary } from './recording.ts';
export { splitWav } from './wav-pieces.ts';
export type { RecordingPiece } from './wav-pieces.ts';
export { wavFromPcm } from './wav.ts';
