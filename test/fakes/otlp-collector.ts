import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as the collector received it (OTLP trace protobuf, decoded). */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** ms since the epoch. */
  startMs: number;
  endMs: number;
  attributes: Record<string, string | number | boolean>;
  /** `service.name` of the resource that sent it. */
  service: string;
}

export interface OtlpCollector {
  /** What to set OTEL_EXPORTER_OTLP_ENDPOINT to. */
  endpoint: string;
  spans: CollectedSpan[];
  /** Export requests received (each may hold many spans). */
  requests: number;
  close(): Promise<void>;
}

/**
 * An OpenTelemetry collector fake on 127.0.0.1: accepts OTLP/HTTP protobuf exports at
 * `POST /v1/traces` (what `@opentelemetry/exporter-trace-otlp-proto` sends), decodes the
 * ExportTraceServiceRequest wire format by hand (opentelemetry-proto field numbers) and
 * answers an empty ExportTraceServiceResponse.
 */
export async function startOtlpCollector(): Promise<OtlpCollector> {
  const collector: Omit<OtlpCollector, 'endpoint' | 'close'> = { spans: [], requests: 0 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      collector.requests++;
      try {
        collector.spans.push(...decodeExportRequest(Buffer.concat(chunks)));
      } catch (error) {
        response.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(collector, {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** Protobuf fields of one message: field number to raw values (varint as bigint, others as bytes). */
type Fields = Map<number, (bigint | Buffer)[]>;

function readFields(bytes: Buffer): Fields {
  const fields: Fields = new Map();
  let position = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = bytes[position++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (position < bytes.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wireType = key & 7;
    let value: bigint | Buffer;
    if (wireType === 0) value = varint();
    else if (wireType === 1) value = bytes.subarray(position, (position += 8));
    else if (wireType === 2) {
      const length = Number(varint());
      value = bytes.subarray(position, (position += length));
    } else if (wireType === 5) value = bytes.subarray(position, (position += 4));
    else throw new Error(`unsupported wire type ${wireType}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

const messages = (fields: Fields, field: number) =>
  (fields.get(field) ?? []).filter((value): value is Buffer => Buffer.isBuffer(value));
const text = (fields: Fields, field: number) => messages(fields, field)[0]?.toString('utf8') ?? '';
const hex = (fields: Fields, field: number) => messages(fields, field)[0]?.toString('hex') ?? '';
const nanosToMs = (fields: Fields, field: number) =>
  Number((messages(fields, field)[0]?.readBigUInt64LE(0) ?? 0n) / 1_000_000n);

/** AnyValue: 1 string, 2 bool, 3 int, 4 double. */
function anyValue(bytes: Buffer): string | number | boolean {
  const fields = readFields(bytes);
  if (fields.has(1)) return text(fields, 1);
  if (fields.has(2)) return fields.get(2)?.[0] === 1n;
  if (fields.has(3)) return Number(fields.get(3)?.[0] as bigint);
  if (fields.has(4)) return (fields.get(4)?.[0] as Buffer).readDoubleLE(0);
  return '';
}

function attributes(keyValues: Buffer[]): Record<string, string | number | boolean> {
  const result: Record<string, string | number | boolean> = {};
  for (const keyValue of keyValues) {
    const fields = readFields(keyValue);
    const value = messages(fields, 2)[0];
    result[text(fields, 1)] = value ? anyValue(value) : '';
  }
  return result;
}

/** ExportTraceServiceRequest { 1: ResourceSpans { 1: Resource { 1: attributes }, 2: ScopeSpans { 2: Span } } }. */
function decodeExportRequest(body: Buffer): CollectedSpan[] {
  const spans: CollectedSpan[] = [];
  for (const resourceSpans of messages(readFields(body), 1)) {
    const resourceFields = readFields(resourceSpans);
    const resource = messages(resourceFields, 1)[0];
    const service = String(
      attributes(resource ? messages(readFields(resource), 1) : [])['service.name'] ?? '',
    );
    for (const scopeSpans of messages(resourceFields, 2)) {
      for (const span of messages(readFields(scopeSpans), 2)) {
        const fields = readFields(span);
        spans.push({
          traceId: hex(fields, 1),
          spanId: hex(fields, 2),
          parentSpanId: hex(fields, 4),
          name: text(fields, 5),
          startMs: nanosToMs(fields, 7),
          endMs: nanosToMs(fields, 8),
          attributes: attributes(messages(fields, 9)),
          service,
        });
      }
    }
  }
  return spans;
}
