import { AppError } from '../../src/errors.js';

/** The AppError thrown by `run` (fails the test when it throws anything else, or nothing). */
export const appError = (run: () => unknown): AppError => {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError, nothing was thrown');
};
