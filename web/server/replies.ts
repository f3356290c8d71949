import type { FastifyReply } from 'fastify';
import type { ApiError } from '../../protocol/index.ts';

/** Refuses a request with a stable code and a sentence for people. */
export function refuse(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  const body: ApiError = { error, message };
  return reply.code(status).send(body);
}
