// Original file: proto/corral/admin/v1/admin.proto

import type { Diagnostic as _corral_admin_v1_Diagnostic, Diagnostic__Output as _corral_admin_v1_Diagnostic__Output } from '../../../corral/admin/v1/Diagnostic.ts';

export interface ListDiagnosticsResponse {
  'diagnostics'?: (_corral_admin_v1_Diagnostic)[];
}

export interface ListDiagnosticsResponse__Output {
  'diagnostics': (_corral_admin_v1_Diagnostic__Output)[];
}
