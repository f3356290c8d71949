import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hybridSearch, resolveUser, type SearchHit } from '../db/index.ts';
import { startOpenAIServer, type OpenAIServer } from '../test/fakes/index.ts';
import { countAllRows } from '../test/fixtures/ingest/database-state.ts';
import { buildProsePdf, wrapText } from '../test/fixtures/ingest/prose-pdf.ts';
import { buildScannedPageJpeg } from '../test/fixtures/media/image-fixtures.ts';
import { buildPdf, PAGE_HEIGHT_POINTS, PAGE_WIDTH_POINTS } from '../test/fixtures/media/pdf-fixtures.ts';
import { backends, createTestDatabase, type TestDatabase } from '../test/support/database.ts';
import { createEmbedder, type Embedder } from './embeddings.ts';
import { IngestError } from './errors.ts';
import { ingestFile, type IngestDependencies, type IngestFile } from './pipeline.ts';
import type { IngestProgress } from './progress.ts';
import { createVisionModel, type VisionModel } from './vision.ts';

const DIMENSIONS = 32;
const limits = { maxBytes: 25 * 1024 * 1024, maxPixels: 40_000_000, maxPages: 50, maxRecordingMs: 3_600_000 };
const TRANSCRIPTION = 'INVOICE 42\nTotal due: 4417 euros for hydraulic couplings.';

describe.each(backends)('ingestFile on %s', (backend) => {
  let test: TestDatabase;
  let openai: OpenAIServer;
  let embedder: Embedder;
  let vision: VisionModel;
  let userId: string;

  beforeAll(async () => {
    [test, openai] = await Promise.all([
      createTestDatabase(backend, DIMENSIONS),
      startOpenAIServer({ embeddingDimensions: DIMENSIONS }),
    ]);
    const endpoint = { baseUrl: openai.baseUrl, apiKey: 'test-key' };
    // One retry keeps the failure tests fast while still proving a retry happens.
    embedder = createEmbedder({
      ...endpoint,
      model: 'text-embedding-3-small',
      dimensions: DIMENSIONS,
      maxRetries: 1,
    });
    vision = createVisionModel({ ...endpoint, model: 'gpt-4o-mini', maxRetries: 0 });
    userId = await resolveUser(test.database.pool, { kind: 'web', value: 'ingest-tester' });
  });
  afterAll(async () => {
    await Promise.all([test?.cleanup(), openai?.close()]);
  });
  beforeEach(() => {
    // A transcription only for a request that carries exactly one decodable page image.
    openai.chatResponder = async (request) => {
      const [image] = request.images;
      if (request.images.length !== 1 || image === undefined) return { text: '(no image received)' };
      const { format } = await sharp(image.bytes).metadata();
      return { text: format === 'jpeg' || format === 'png' ? TRANSCRIPTION : '(unreadable image)' };
    };
  });

  const dependencies = (overrides: Partial<IngestDependencies> = {}): IngestDependencies => ({
    database: test.database,
    embedder,
    vision,
    limits,
    ...overrides,
  });
  const file = (bytes: Uint8Array, fileName: string, overrides: Partial<IngestFile> = {}): IngestFile => ({
    bytes,
    fileName,
    ownerId: userId,
    sourceName: fileName,
    ...overrides,
  });
  async function search(text: string, asUser = userId): Promise<SearchHit[]> {
    const [embedding] = await embedder.embed([text]);
    return hybridSearch(test.database.pool, { userId: asUser, text, embedding });
  }
  /** Full-text matches only: vector search always returns the nearest chunks, related or not. */
  const textMatches = (text: string, asUser = userId): Promise<SearchHit[]> =>
    hybridSearch(test.database.pool, { userId: asUser, text });

  it('ingests a text PDF searchable by page, reporting progress in order', async () => {
    const pdf = buildProsePdf([
      wrapText('Safety instructions for the pump. Wear gloves at all times.'),
      wrapText('The centrifugal impeller clearance must be 0.4 millimetres after assembly.'),
      wrapText('Warranty terms: two years from the date of purchase.'),
    ]);
    const events: IngestProgress[] = [];
    const result = await ingestFile(file(pdf, 'pump-manual.pdf'), dependencies(), (event) =>
      events.push(event),
    );
    expect(result).toMatchObject({
      outcome: 'created',
      title: 'pump-manual.pdf',
      kind: 'pdf',
      mimeType: 'application/pdf',
      pages: 3,
      unreadablePages: [],
      transcribedPages: [],
      embedded: true,
    });
    expect(result.chunks).toBe(3);

    const [hit] = await search('impeller clearance');
    expect(hit).toMatchObject({ documentId: result.documentId, title: 'pump-manual.pdf' });
    expect(hit?.text).toContain('impeller clearance must be 0.4');
    expect([hit?.pageStart, hit?.pageEnd]).toEqual([2, 2]);

    const stages = [...new Set(events.map((event) => event.stage))];
    expect(stages).toEqual(['reading', 'parsing', 'embedding', 'saving']);
    expect(events.find((event) => event.stage === 'parsing' && event.pages !== undefined)?.pages).toBe(3);
    const fractions = events.map((event) => event.fraction);
    expect(fractions).toEqual([...fractions].sort((left, right) => left - right));
    expect(fractions.at(-1)).toBe(1);
  });

  it('keeps Markdown and HTML headings and takes their titles', async () => {
    const markdown = '# Boiler guide\n\n## Bleeding radiators\n\nTurn the bleed valve a quarter turn.\n';
    const html =
      '<html><head><title>Alarm panel</title><script>var hidden = "zebra";</script></head>' +
      '<body><h2>Reset codes</h2><p>Enter 9-9-1 to reset the alarm.</p></body></html>';
    const fromMarkdown = await ingestFile(file(Buffer.from(markdown), 'boiler.md'), dependencies());
    const fromHtml = await ingestFile(file(Buffer.from(html), 'alarm.html'), dependencies());
    expect([fromMarkdown.title, fromMarkdown.kind]).toEqual(['Boiler guide', 'markdown']);
    expect([fromHtml.title, fromHtml.kind]).toEqual(['Alarm panel', 'html']);

    const { rows } = await test.database.pool.query<{ heading: string; text: string }>(
      'select heading, text from chunks where document_id = any($1) order by heading',
      [[fromMarkdown.documentId, fromHtml.documentId]],
    );
    expect(rows).toEqual([
      { heading: 'Bleeding radiators', text: 'Turn the bleed valve a quarter turn.' },
      { heading: 'Reset codes', text: 'Enter 9-9-1 to reset the alarm.' },
    ]);
    expect(await textMatches('zebra')).toEqual([]);
    expect(await textMatches('bleed valve')).toContainEqual(
      expect.objectContaining({ documentId: fromMarkdown.documentId }),
    );
  });

  it('transcribes a scanned page with the vision model, searchable with its page number', async () => {
    const pdf = buildPdf([
      { text: 'Cover page of the quarterly report' },
      await buildScannedPageJpeg(),
      { text: 'Appendix with the detailed figures' },
    ]);
    const chatBefore = openai.chatBodies().length;
    const events: IngestProgress[] = [];
    const result = await ingestFile(file(pdf, 'quarterly.pdf'), dependencies(), (event) =>
      events.push(event),
    );
    expect(result).toMatchObject({ pages: 3, transcribedPages: [2], unreadablePages: [] });

    const requests = openai.chatBodies().slice(chatBefore);
    expect(requests).toHaveLength(1);
    const request = openai.requestsTo('/chat/completions').at(-1);
    const body = request?.body as { model: string; messages: { role: string; content: unknown }[] };
    expect(body.model).toBe('gpt-4o-mini');
    expect(JSON.stringify(body.messages[0])).toMatch(/transcribe/i);
    const parts = body.messages[1]?.content as { type: string; image_url?: { url: string } }[];
    const imageParts = parts.filter((part) => part.type === 'image_url');
    expect(imageParts).toHaveLength(1);
    const [, mime, payload] =
      /^data:(image\/\w+);base64,(.+)$/.exec(imageParts[0]?.image_url?.url ?? '') ?? [];
    expect(mime).toBe('image/jpeg');
    const rendered = await sharp(Buffer.from(payload ?? '', 'base64')).metadata();
    // A letter page fitted to 768 pixels across, as the vision bounds ask for.
    expect(rendered.format).toBe('jpeg');
    expect(rendered.width).toBe(768);
    expect(Math.abs(rendered.height - (PAGE_HEIGHT_POINTS * 768) / PAGE_WIDTH_POINTS)).toBeLessThanOrEqual(1);

    expect(events.filter((event) => event.stage === 'transcribing').at(-1)).toMatchObject({
      page: 1,
      pages: 1,
    });
    const [hit] = await search('hydraulic couplings total due');
    expect(hit).toMatchObject({ documentId: result.documentId, pageStart: 2, pageEnd: 2 });
    expect(hit?.text).toContain('Total due: 4417 euros');
  });

  it('reports scanned pages unreadable without a vision model, and reads them once one is configured', async () => {
    const owner = await resolveUser(test.database.pool, { kind: 'web', value: 'scan-owner' });
    const pdf = buildPdf([{ text: 'Delivery note for the spare parts order' }, await buildScannedPageJpeg()]);
    const input = file(pdf, 'delivery.pdf', { ownerId: owner });
    const chatBefore = openai.chatBodies().length;

    const first = await ingestFile(input, dependencies({ vision: undefined }));
    expect(first).toMatchObject({ outcome: 'created', pages: 2, unreadablePages: [2], transcribedPages: [] });
    const again = await ingestFile(input, dependencies({ vision: undefined }));
    expect(again).toMatchObject({ outcome: 'unchanged', documentId: first.documentId, unreadablePages: [2] });
    expect(openai.chatBodies().length).toBe(chatBefore);
    expect(await textMatches('hydraulic couplings', owner)).not.toContainEqual(
      expect.objectContaining({ documentId: first.documentId }),
    );

    const withVision = await ingestFile(input, dependencies());
    expect(withVision).toMatchObject({
      outcome: 'replaced',
      documentId: first.documentId,
      unreadablePages: [],
      transcribedPages: [2],
    });
    const hits = await search('hydraulic couplings', owner);
    expect(hits).toContainEqual(expect.objectContaining({ documentId: first.documentId, pageStart: 2 }));
  });

  it('answers the same bytes again as unchanged without parsing or embedding them', async () => {
    const bytes = Buffer.from('The spare key is in the blue box under the stairs.');
    const first = await ingestFile(file(bytes, 'keys.txt'), dependencies());
    const embeddingRequests = openai.requestsTo('/embeddings').length;
    const rowsBefore = await countAllRows(test.database.pool);

    const second = await ingestFile(file(bytes, 'keys.txt'), dependencies());
    expect(second).toMatchObject({
      outcome: 'unchanged',
      documentId: first.documentId,
      chunks: first.chunks,
    });
    // Under another name it is still the same document for this owner.
    const renamed = await ingestFile(file(bytes, 'copy of keys.txt'), dependencies());
    expect(renamed).toMatchObject({ outcome: 'unchanged', documentId: first.documentId });
    expect(openai.requestsTo('/embeddings').length).toBe(embeddingRequests);
    expect(await countAllRows(test.database.pool)).toEqual(rowsBefore);
  });

  it('replaces a changed file atomically, and keeps the old version when the new one fails', async () => {
    const version = (code: string) => Buffer.from(`The gate code for the north entrance is ${code}.`);
    const first = await ingestFile(file(version('4417'), 'gate.txt'), dependencies());
    const second = await ingestFile(file(version('9902'), 'gate.txt'), dependencies());
    expect(second).toMatchObject({ outcome: 'replaced', documentId: first.documentId });
    const texts = async (query: string) =>
      (await search(query)).filter((hit) => hit.documentId === first.documentId).map((hit) => hit.text);
    expect(await texts('gate code 4417')).toEqual(['The gate code for the north entrance is 9902.']);

    const rowsBefore = await countAllRows(test.database.pool);
    const embeddingRequests = openai.requestsTo('/embeddings').length;
    openai.failNext('embeddings', { kind: 'status', status: 500 });
    openai.failNext('embeddings', { kind: 'status', status: 500 });
    const failure = await ingestFile(file(version('7777'), 'gate.txt'), dependencies()).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(IngestError);
    expect(failure).toMatchObject({ code: 'embedding-failed', retryable: true, userFacing: true });
    expect((failure as Error).message).toMatch(/embedding server .* failed: HTTP 500\. Nothing was saved/);
    expect(openai.requestsTo('/embeddings').length).toBe(embeddingRequests + 2);
    expect(await countAllRows(test.database.pool)).toEqual(rowsBefore);
    expect(await texts('gate code 7777 9902')).toEqual(['The gate code for the north entrance is 9902.']);
  });

  it('describes an image with the vision model as one chunk titled by its file name', async () => {
    openai.chatResponder = (request) => ({
      text:
        request.images.length === 1
          ? 'A green emergency exit sign above a door.\n\nText: EXIT 12'
          : '(no image received)',
    });
    const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#0a0' } })
      .png()
      .toBuffer();
    const result = await ingestFile(file(png, 'sign.png'), dependencies());
    expect(result).toMatchObject({
      kind: 'image',
      mimeType: 'image/png',
      title: 'sign.png',
      pages: null,
      chunks: 1,
    });
    const [hit] = await search('emergency exit sign');
    expect(hit).toMatchObject({ documentId: result.documentId, pageStart: null });
    expect(hit?.text).toBe('A green emergency exit sign above a door.\n\nText: EXIT 12');
    expect(JSON.stringify(openai.chatBodies().at(-1)?.messages[0])).toMatch(/describe/i);
  });

  it('stores chunks without embeddings when there is no embedder, and embeds them on a later ingest', async () => {
    const bytes = Buffer.from('Recycling is collected every second Tuesday.');
    const plain = await ingestFile(file(bytes, 'recycling.txt'), dependencies({ embedder: undefined }));
    expect(plain).toMatchObject({ outcome: 'created', embedded: false });
    const embedded = await ingestFile(file(bytes, 'recycling.txt'), dependencies());
    expect(embedded).toMatchObject({ outcome: 'replaced', documentId: plain.documentId, embedded: true });
    const { rows } = await test.database.pool.query<{ missing: number; model: string }>(
      `select count(*) filter (where embedding is null)::int as missing, max(embedding_model) as model
         from chunks where document_id = $1`,
      [plain.documentId],
    );
    expect(rows[0]).toEqual({ missing: 0, model: 'text-embedding-3-small' });
    expect(await ingestFile(file(bytes, 'recycling.txt'), dependencies())).toMatchObject({
      outcome: 'unchanged',
    });
  });
});
