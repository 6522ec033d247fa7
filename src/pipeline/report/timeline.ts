import type { EventBus, HallmarkEvent } from '../../kernel/events.js';

export type SpanStatus = 'ok' | 'failed' | 'skipped' | 'running';

/** One step (or one step's cleanup) of one instance, as it happened. Times are epoch milliseconds. */
export interface Span {
  name: string;
  kind: 'step' | 'cleanup';
  start: number;
  /** Absent while the step runs (a report written after an interrupt). */
  end?: number;
  status: SpanStatus;
  /** The error of a failed step, or why a skipped step did nothing. */
  note?: string;
}

/** What one lane of the timeline (an instance, or its boot-test machine) did. */
export interface Lane {
  instance: string;
  action?: string;
  start: number;
  end?: number;
  ok?: boolean;
  spans: Span[];
}

/**
 * Records step and cleanup start/end times per instance from the event bus,
 * for the report's timeline. Attach it before the action starts; `lanes()`
 * can be read at any time (a step still running has no end).
 */
export class TimelineRecorder {
  private readonly byInstance = new Map<string, Lane>();
  private readonly off: () => void;

  constructor(events: EventBus) {
    this.off = events.on((e) => this.record(e));
  }

  stop(): void {
    this.off();
  }

  lanes(): Lane[] {
    return [...this.byInstance.values()].map((l) => ({ ...l, spans: l.spans.map((s) => ({ ...s })) }));
  }

  private lane(instance: string, time: number): Lane {
    let l = this.byInstance.get(instance);
    if (!l) {
      l = { instance, start: time, spans: [] };
      this.byInstance.set(instance, l);
    }
    return l;
  }

  private record(e: HallmarkEvent): void {
    switch (e.type) {
      case 'action-start': {
        const l = this.lane(e.instance, e.time);
        l.action = e.action;
        l.start = Math.min(l.start, e.time);
        break;
      }
      case 'action-end': {
        const l = this.lane(e.instance, e.time);
        l.end = e.time;
        l.ok = e.ok;
        break;
      }
      case 'step-start':
      case 'cleanup-start':
        this.lane(e.instance, e.time).spans.push({ name: e.step, kind: e.type === 'step-start' ? 'step' : 'cleanup', start: e.time, status: 'running' });
        break;
      case 'step-end':
      case 'cleanup-end': {
        const kind = e.type === 'step-end' ? 'step' : 'cleanup';
        const l = this.lane(e.instance, e.time);
        const span = [...l.spans].reverse().find((s) => s.name === e.step && s.kind === kind && s.status === 'running');
        const status: SpanStatus = !e.ok ? 'failed' : e.type === 'step-end' && e.skipped !== undefined ? 'skipped' : 'ok';
        const note = e.ok ? (e.type === 'step-end' ? e.skipped : undefined) : e.error;
        if (span) Object.assign(span, { end: e.time, status, note });
        else l.spans.push({ name: e.step, kind, start: e.time - e.durationMs, end: e.time, status, note });
        break;
      }
    }
  }
}
