{{- define "b2b.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "b2b.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "b2b.labels" -}}
{{ include "b2b.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "b2b.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "b2b.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is needed when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The V8 old-space cap: 2/3 of resources.limits.memory, in MiB. */}}
{{- define "b2b.heapMiB" -}}
{{- $limit := toString (required "resources.limits.memory is needed: the heap cap follows it" .Values.resources.limits.memory) -}}
{{- if hasSuffix "Gi" $limit -}}
{{- div (mul (trimSuffix "Gi" $limit | int) 1024 2) 3 -}}
{{- else if hasSuffix "Mi" $limit -}}
{{- div (mul (trimSuffix "Mi" $limit | int) 2) 3 -}}
{{- else -}}
{{- fail "resources.limits.memory must be given in Mi or Gi" -}}
{{- end -}}
{{- end -}}
