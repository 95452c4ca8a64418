export * from './job';
export * from './run';
export * from './events';
export * from './ids';
export * from './duration';
export * from './logger';
export * from './health';
export * from './backup';
