export * from './job';
export * from './run';
export * from './events';
export * from './ids';
export * from './duration';
export * from './trigger-status';
