// Original file: proto/corral/admin/v1/admin.proto


export interface ReloadRequest {
}

export interface ReloadRequest__Output {
}
