import { EventEmitter } from 'node:events';
import { ReadableStream } from 'node:stream/web';
import { stt, voice } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { BACKCHANNEL, BackchannelFilter, isBackchannel } from './backchannel.ts';

describe('isBackchannel', () => {
  it.each([
    'Mm-hmm.',
    'Uh-huh',
    'mhm',
    'Yeah.',
    'Yeah, yeah.',
    'Okay, got it.',
    'I see.',
    'Right, right.',
    'Oh, okay.',
  ])('takes "%s" for a listener showing they follow', (text) => expect(isBackchannel(text)).toBe(true));

  it.each([
    'Wait, stop.',
    'No.',
    'Yeah, but what about the red one?',
    'Okay stop',
    'Right now, please.',
    'Yeah yeah yeah yeah yeah',
    'I',
    '',
    '   ',
  ])('does not take "%s" for one', (text) => expect(isBackchannel(text)).toBe(false));
});

describe('BackchannelFilter', () => {
  const USUAL_RESUME_MS = 3_000;

  /** The session's events and state, as BackchannelFilter reads them. */
  function fakeSession() {
    const emitter = new EventEmitter();
    const session = Object.assign(emitter, {
      userState: 'listening' as string,
      sessionOptions: { turnHandling: { interruption: { falseInterruptionTimeout: USUAL_RESUME_MS } } },
    });
    const filter = new BackchannelFilter();
    filter.attach(session as unknown as voice.AgentSession);
    const agent = (oldState: string, newState: string) =>
      emitter.emit(voice.AgentSessionEventTypes.AgentStateChanged, { oldState, newState });
    return {
      session,
      filter,
      agent,
      resumeMs: () => session.sessionOptions.turnHandling.interruption.falseInterruptionTimeout,
    };
  }

  const transcript = (text: string, type = stt.SpeechEventType.FINAL_TRANSCRIPT): stt.SpeechEvent =>
    ({
      type,
      alternatives: [{ text, startTime: 0, endTime: 0, confidence: 1 }],
    }) as unknown as stt.SpeechEvent;

  async function passed(filter: BackchannelFilter, events: stt.SpeechEvent[]): Promise<string[]> {
    const kept: string[] = [];
    for await (const event of filter.filter(ReadableStream.from(events)))
      kept.push(typeof event === 'string' ? event : (event.alternatives?.[0]?.text ?? String(event.type)));
    return kept;
  }

  it('drops an "mm-hm" said while the agent speaks, and shortens that pause until the answer resumes', async () => {
    const { filter, agent, session, resumeMs } = fakeSession();
    agent('thinking', 'speaking');
    session.userState = 'speaking';
    agent('speaking', 'listening');
    expect(
      await passed(filter, [transcript('Mm', stt.SpeechEventType.INTERIM_TRANSCRIPT), transcript('Mm-hmm.')]),
    ).toEqual([]);
    expect(resumeMs()).toBe(BACKCHANNEL.resumeAfterMs);
    session.emit(voice.AgentSessionEventTypes.AgentFalseInterruption, { resumed: true });
    expect(resumeMs()).toBe(USUAL_RESUME_MS);
  });

  it('lets real words through while the agent speaks, with the usual wait', async () => {
    const { filter, agent, resumeMs } = fakeSession();
    agent('thinking', 'speaking');
    expect(
      await passed(filter, [
        transcript('Yeah', stt.SpeechEventType.INTERIM_TRANSCRIPT),
        transcript('Yeah, but what about the red one?'),
      ]),
    ).toEqual(['Yeah, but what about the red one?']);
    expect(resumeMs()).toBe(USUAL_RESUME_MS);
    expect(await passed(filter, [transcript('Wait, stop.')])).toEqual(['Wait, stop.']);
  });

  it('lets "yeah" through when the agent is not talking, or its answer just ended under the user\'s voice', async () => {
    const { filter, agent, session } = fakeSession();
    expect(await passed(filter, [transcript('Yeah.')])).toEqual(['Yeah.']);
    agent('thinking', 'speaking');
    session.userState = 'speaking';
    session.emit(voice.AgentSessionEventTypes.ConversationItemAdded, {
      item: { type: 'message', role: 'assistant' },
    });
    agent('speaking', 'listening');
    expect(await passed(filter, [transcript('Yeah.')])).toEqual(['Yeah.']);
    expect(filter.dropped).toBe(0);
  });
});
