import { makeEnvelope } from '../bus/envelope.js';
import { schedules } from '../bus/topics.js';
import type { Platform } from './platform.js';

/**
 * Plays Cloud Scheduler in the local runtime: each scheduled topic gets an empty envelope at its
 * interval (infra/scheduler.tf has the production cron). Also nudges the outbox relay, which in
 * production runs after every change and from its own schedule.
 */
export function startLocalScheduler(p: Platform, options: { outboxSweepMs?: number } = {}): () => void {
  const timers: NodeJS.Timeout[] = [];
  for (const schedule of schedules) {
    timers.push(
      setInterval(() => {
        void p.publisher
          .publish(schedule.topic, makeEnvelope(schedule.topic, {}, p.clock.now()))
          .catch((error: unknown) =>
            p.logger.error('scheduled publish failed', { topic: schedule.topic, error }),
          );
      }, schedule.everyMs),
    );
  }
  timers.push(
    setInterval(() => {
      void p.relay.drain().catch((error: unknown) => p.logger.error('outbox sweep failed', { error }));
    }, options.outboxSweepMs ?? 5000),
  );
  for (const timer of timers) timer.unref();
  return () => {
    for (const timer of timers) clearInterval(timer);
  };
}
