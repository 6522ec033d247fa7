import { EventEmitter } from 'node:events';

/**
 * Everything the library reports. The library never prints: the CLI renders
 * these for a terminal, for CI, or as JSON lines.
 */
export type HallmarkEvent =
  | { type: 'action-start'; instance: string; action: string; time: number }
  | { type: 'action-end'; instance: string; action: string; ok: boolean; error?: string; durationMs: number; time: number }
  | { type: 'step-start'; instance: string; step: string; time: number }
  /** `skipped`: the step had nothing to do in this build (no boot test, no regions), and why. */
  | { type: 'step-end'; instance: string; step: string; ok: boolean; error?: string; skipped?: string; durationMs: number; time: number }
  | { type: 'cleanup-start'; instance: string; step: string; time: number }
  | { type: 'cleanup-end'; instance: string; step: string; ok: boolean; error?: string; durationMs: number; time: number }
  | { type: 'log'; instance: string; level: 'debug' | 'info' | 'warn' | 'error'; message: string; time: number }
  | { type: 'output'; instance: string; stream: 'stdout' | 'stderr'; text: string; time: number }
  | { type: 'progress'; instance: string; message: string; percent?: number; time: number }
  | { type: 'check'; instance: string; id: string; title: string; status: 'pass' | 'fail' | 'skip' | 'error'; message?: string; time: number }
  | { type: 'resource'; instance: string; kind: string; id: string; region?: string; time: number };

type WithoutTime<E> = E extends unknown ? Omit<E, 'time'> : never;
export type EventInput = WithoutTime<HallmarkEvent>;

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit(event: EventInput): void {
    this.emitter.emit('event', { ...event, time: Date.now() } as HallmarkEvent);
  }

  on(listener: (e: HallmarkEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** A logger bound to one instance, for plugins. */
  logger(instance: string): Logger {
    return {
      debug: (message) => this.emit({ type: 'log', instance, level: 'debug', message }),
      info: (message) => this.emit({ type: 'log', instance, level: 'info', message }),
      warn: (message) => this.emit({ type: 'log', instance, level: 'warn', message }),
      error: (message) => this.emit({ type: 'log', instance, level: 'error', message }),
      output: (stream, text) => this.emit({ type: 'output', instance, stream, text }),
      progress: (message, percent) => this.emit({ type: 'progress', instance, message, percent }),
    };
  }
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Streamed output of a command on the machine or the controller. */
  output(stream: 'stdout' | 'stderr', text: string): void;
  /** Progress of a long wait (image copy, boot). */
  progress(message: string, percent?: number): void;
}

/** A logger that drops everything, for library callers and tests that do not care. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  output() {},
  progress() {},
};
