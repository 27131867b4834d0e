export * from './envelope.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './requests.ts';
export * from './sse.ts';
export * from './task.ts';
