import type { ErrorCode } from './errors.ts';

/** `{"success": true, "data": …}`: every successful JSON answer. */
export interface ApiSuccess<T> {
  success: true;
  data: T;
}

/** `{"success": false, "error": {"message", "code"}}`: every failed answer. */
export interface ApiFailure {
  success: false;
  error: { message: string; code: ErrorCode | string };
}

export type ApiResponse<T> = ApiSuccess<T> | ApiFailure;

export interface Pagination {
  total: number;
  limit: number;
  offset: number;
  hasMore: boolean;
}

/** The list endpoint adds `pagination` beside `data`. */
export interface ApiPage<T> extends ApiSuccess<T[]> {
  pagination: Pagination;
}
