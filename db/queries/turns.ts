import type { Queryable } from '../connection.ts';

/** A stage of a turn, ms from the turn's start (same shape as protocol/events.ts `TurnStage`). */
export interface StoredTurnStage {
  name: string;
  startMs: number;
  endMs: number | null;
  firstMs?: number;
  detail?: Record<string, string | number | boolean>;
}

export interface TurnSource {
  chunkId?: string;
  documentId: string;
  title: string;
  page: number | null;
  /** Of a recording: the moment cited (ms) and who speaks then. */
  startMs?: number | null;
  speaker?: string | null;
}

export interface NewTurn {
  id: string;
  conversationId: string;
  modality: 'voice' | 'text';
  startedAt: Date;
}

export interface FinishedTurn {
  stages: readonly StoredTurnStage[];
  voiceToVoiceMs: number | null;
  interrupted: boolean;
  sources: readonly TurnSource[];
  citations: readonly TurnSource[];
}

export interface StoredTurn extends FinishedTurn {
  id: string;
  conversationId: string;
  modality: 'voice' | 'text';
  startedAt: Date;
  finishedAt: Date | null;
  /** The user's words (or typed text) that started the turn. */
  question: string | null;
  /** The answer, as said (or as far as it got before an interruption). */
  answer: string | null;
  stages: StoredTurnStage[];
  sources: TurnSource[];
  citations: TurnSource[];
}

/** Starts a turn of a conversation; the user is taken from the conversation. */
export async function insertTurn(db: Queryable, turn: NewTurn): Promise<void> {
  const { rowCount } = await db.query(
    `insert into turns (id, conversation_id, user_id, modality, started_at)
     select $1, c.id, c.user_id, $3, $4 from conversations c where c.id = $2`,
    [turn.id, turn.conversationId, turn.modality, turn.startedAt],
  );
  if (rowCount === 0) throw new Error(`Conversation ${turn.conversationId} does not exist`);
}

/** Stores what a finished turn measured and used. */
export async function finishTurn(db: Queryable, turnId: string, turn: FinishedTurn): Promise<void> {
  await db.query(
    `update turns set stages = $2, voice_to_voice_ms = $3, interrupted = $4, sources = $5, citations = $6,
                      finished_at = clock_timestamp()
      where id = $1`,
    [
      turnId,
      JSON.stringify(turn.stages),
      turn.voiceToVoiceMs,
      turn.interrupted,
      JSON.stringify(turn.sources),
      JSON.stringify(turn.citations),
    ],
  );
}

const TURN_COLUMNS = `t.id, t.conversation_id as "conversationId", t.modality, t.started_at as "startedAt",
  t.finished_at as "finishedAt", t.stages, t.voice_to_voice_ms as "voiceToVoiceMs", t.interrupted,
  t.sources, t.citations,
  (select m.text from messages m where m.turn_id = t.id and m.role = 'user' order by m.created_at limit 1) as question,
  (select m.text from messages m where m.turn_id = t.id and m.role = 'assistant' order by m.created_at desc limit 1) as answer`;

/** The turns of one conversation, oldest first. */
export async function listTurns(db: Queryable, conversationId: string): Promise<StoredTurn[]> {
  const { rows } = await db.query<StoredTurn>(
    `select ${TURN_COLUMNS} from turns t where t.conversation_id = $1 order by t.started_at, t.id`,
    [conversationId],
  );
  return rows;
}

/** The most recent `limit` turns of any conversation, oldest first. */
export async function listRecentTurns(db: Queryable, limit: number): Promise<StoredTurn[]> {
  const { rows } = await db.query<StoredTurn>(
    `select * from (select ${TURN_COLUMNS} from turns t order by t.started_at desc, t.id limit $1) recent
      order by "startedAt", id`,
    [limit],
  );
  return rows;
}
