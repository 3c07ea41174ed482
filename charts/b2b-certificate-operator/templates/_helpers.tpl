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
{{- if not (regexMatch "^[0-9]+(Mi|Gi)$" $limit) -}}
{{- fail (printf "resources.limits.memory must be a whole number of Mi or Gi (e.g. 384Mi, 2Gi), not %q: the V8 heap cap is computed from it" $limit) -}}
{{- else if hasSuffix "Gi" $limit -}}
{{- div (mul (trimSuffix "Gi" $limit | int) 1024 2) 3 -}}
{{- else -}}
{{- div (mul (trimSuffix "Mi" $limit | int) 2) 3 -}}
{{- end -}}
{{- end -}}
