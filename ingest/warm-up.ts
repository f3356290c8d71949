import type { DocumentReader } from './document-reader.ts';

/** A valid one-page PDF with one word on it, built with correct cross-reference offsets. */
export function onePagePdf(): Uint8Array {
  const content = 'BT /F1 12 Tf 72 720 Td (Ready) Tj ET';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
  ];
  let pdf = '%PDF-1.4\n';
  const offsets = objects.map((object, index) => {
    const offset = pdf.length;
    pdf += `${index + 1} 0 obj\n${object}\nendobj\n`;
    return offset;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  pdf += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(pdf);
}

/**
 * Starts a reader process, which loads pdf.js by reading {@link onePagePdf}
 * before it takes work: about a second and ~300 MB once. A server calls this at
 * start, before anyone talks to it, so the first upload in a conversation does
 * not wait for it. Never throws: a failure here shows up again, with a proper
 * message, on the first real PDF. Resolves whether the reader started.
 */
export async function warmUpPdfReading(reader: DocumentReader): Promise<boolean> {
  try {
    await reader.warmUp();
    return true;
  } catch {
    // See above: the first real PDF reports it.
    return false;
  }
}
