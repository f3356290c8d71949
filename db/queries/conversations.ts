import type { Queryable } from '../connection.ts';

export type Channel = 'web' | 'phone';
export type Role = 'user' | 'assistant' | 'system' | 'tool';
export type Modality = 'voice' | 'text' | 'image' | 'document';

/** Where an answer's facts came from: shown under the answer, never read aloud. */
export interface Citation {
  documentId: string;
  title: string;
  page: number | null;
}

/** Milliseconds from the end of the user's speech (or their typed message) of the turn. */
export interface TurnTimings {
  speechEndedAt?: Date | null;
  transcriptDelayMs?: number | null;
  firstTokenDelayMs?: number | null;
  firstAudioDelayMs?: number | null;
}

export async function createConversation(db: Queryable, userId: string, channel: Channel): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    'insert into conversations (user_id, channel) values ($1, $2) returning id',
    [userId, channel],
  );
  return (rows[0] as { id: string }).id;
}

export async function endConversation(
  db: Queryable,
  conversationId: string,
  summary?: string | null,
): Promise<void> {
  await db.query(
    'update conversations set ended_at = coalesce(ended_at, now()), summary = coalesce($2, summary) where id = $1',
    [conversationId, summary ?? null],
  );
}

export interface NewMessage extends TurnTimings {
  conversationId: string;
  role: Role;
  modality: Modality;
  text: string;
  interrupted?: boolean;
  citations?: readonly Citation[];
  /** The turn this message belongs to (see queries/turns.ts). */
  turnId?: string | null;
}

export interface StoredMessage {
  id: string;
  role: Role;
  modality: Modality;
  text: string;
  interrupted: boolean;
  citations: Citation[];
  turnId: string | null;
  createdAt: Date;
  speechEndedAt: Date | null;
  transcriptDelayMs: number | null;
  firstTokenDelayMs: number | null;
  firstAudioDelayMs: number | null;
}

/** Appends a message to a conversation; the user is taken from the conversation. */
export async function appendMessage(db: Queryable, message: NewMessage): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `insert into messages (conversation_id, user_id, role, modality, text, interrupted, citations,
                           speech_ended_at, transcript_delay_ms, first_token_delay_ms, first_audio_delay_ms, turn_id)
     select c.id, c.user_id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 from conversations c where c.id = $1
     returning id`,
    [
      message.conversationId,
      message.role,
      message.modality,
      message.text,
      message.interrupted ?? false,
      JSON.stringify(message.citations ?? []),
      message.speechEndedAt ?? null,
      message.transcriptDelayMs ?? null,
      message.firstTokenDelayMs ?? null,
      message.firstAudioDelayMs ?? null,
      message.turnId ?? null,
    ],
  );
  const row = rows[0];
  if (!row) throw new Error(`Conversation ${message.conversationId} does not exist`);
  return row.id;
}

/** Updates timings or the interrupted flag of a message once they are known. */
export async function updateMessage(
  db: Queryable,
  messageId: string,
  changes: TurnTimings & { interrupted?: boolean; text?: string },
): Promise<void> {
  await db.query(
    `update messages set
       interrupted = coalesce($2, interrupted),
       text = coalesce($3, text),
       speech_ended_at = coalesce($4, speech_ended_at),
       transcript_delay_ms = coalesce($5, transcript_delay_ms),
       first_token_delay_ms = coalesce($6, first_token_delay_ms),
       first_audio_delay_ms = coalesce($7, first_audio_delay_ms)
     where id = $1`,
    [
      messageId,
      changes.interrupted ?? null,
      changes.text ?? null,
      changes.speechEndedAt ?? null,
      changes.transcriptDelayMs ?? null,
      changes.firstTokenDelayMs ?? null,
      changes.firstAudioDelayMs ?? null,
    ],
  );
}

export async function listMessages(db: Queryable, conversationId: string): Promise<StoredMessage[]> {
  const { rows } = await db.query<StoredMessage>(
    `select id, role, modality, text, interrupted, citations, turn_id as "turnId", created_at as "createdAt",
            speech_ended_at as "speechEndedAt", transcript_delay_ms as "transcriptDelayMs",
            first_token_delay_ms as "firstTokenDelayMs", first_audio_delay_ms as "firstAudioDelayMs"
       from messages where conversation_id = $1 order by created_at, id`,
    [conversationId],
  );
  return rows;
}

/** Whether the user had a conversation before `currentConversationId`. */
export async function hasEarlierConversation(
  db: Queryable,
  userId: string,
  currentConversationId: string,
): Promise<boolean> {
  const { rows } = await db.query('select 1 from conversations where user_id = $1 and id <> $2 limit 1', [
    userId,
    currentConversationId,
  ]);
  return rows.length > 0;
}

/** Throws when the database does not answer (health checks). */
export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query('select 1');
}
