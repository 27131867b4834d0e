export * from './envelope.ts';
export * from './errors.ts';
export * from './event-names.ts';
export * from './events.ts';
export * from './fold-task-events.ts';
export * from './requests.ts';
export * from './sse.ts';
export * from './task.ts';
