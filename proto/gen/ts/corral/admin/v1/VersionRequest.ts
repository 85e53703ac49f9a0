// Original file: proto/corral/admin/v1/admin.proto


export interface VersionRequest {
}

export interface VersionRequest__Output {
}
