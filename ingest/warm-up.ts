import { extractPdfText } from '../media/index.ts';

/** A valid one-page PDF with one word on it, built with correct cross-reference offsets. */
function onePagePdf(): Uint8Array {
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
 * Loads pdf.js by reading a one-page PDF. The first PDF in a process costs
 * about a second, half of it blocking the event loop, and ~300 MB once; later
 * PDFs block it for no more than ~20 ms at a time. A server calls this at
 * start, before anyone talks to it, so the first upload in a conversation does
 * not freeze the audio. Never throws: a failure here shows up again, with a
 * proper message, on the first real PDF.
 */
export async function warmUpPdfReading(): Promise<void> {
  try {
    await extractPdfText(onePagePdf(), { maxPages: 1 });
  } catch {
    // See above: the first real PDF reports it.
  }
}
