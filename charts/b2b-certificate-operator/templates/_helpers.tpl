{{- define "b2b.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "b2b.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "b2b.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "b2b.selectorLabels" -}}
app.kubernetes.io/name: {{ include "b2b.name" . }}
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

{{/* NODE_OPTIONS: the V8 old-space cap at 2/3 of resources.limits.memory when there is a
limit (without one there is nothing to stay under: V8's default), the young generation at
2 x 1 MiB always. */}}
{{- define "b2b.nodeOptions" -}}
{{- $limit := dig "limits" "memory" "" (.Values.resources | default dict) | toString -}}
{{- if $limit -}}
--max-old-space-size={{ include "b2b.heapMiB" $limit }} {{ end -}}
--max-semi-space-size=1
{{- end -}}

{{/* The V8 old-space cap: 2/3 of a memory limit, in MiB. */}}
{{- define "b2b.heapMiB" -}}
{{- if not (regexMatch "^[0-9]+(Mi|Gi)$" .) -}}
{{- fail (printf "resources.limits.memory must be a whole number of Mi or Gi (e.g. 384Mi, 2Gi), not %q: the V8 heap cap is computed from it" .) -}}
{{- else if hasSuffix "Gi" . -}}
{{- div (mul (trimSuffix "Gi" . | int) 1024 2) 3 -}}
{{- else -}}
{{- div (mul (trimSuffix "Mi" . | int) 2) 3 -}}
{{- end -}}
{{- end -}}

{{/* The pod labels a Deployment selects: the shard's label too on a shard's pods. The first
Deployment's selector stays as it always was (a selector cannot change on upgrade). */}}
{{- define "b2b.podSelectorLabels" -}}
{{ include "b2b.selectorLabels" .root }}
{{- with .shard }}
integration.b2b.dev/shard: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The sharding flags of one Deployment: a shard's own label and Lease, or for the first
Deployment every object no shard takes, with the Lease it had before sharding (a rollout then
never runs the old and new pods at once). */}}
{{- define "b2b.shardArgs" -}}
{{- $shards := .root.Values.shards | default list -}}
{{- if $shards -}}
{{- range (.root.Values.extraArgs | default list) -}}
{{- if or (hasPrefix "--leader-election-id" .) (hasPrefix "--watch-label-selector" .) -}}
{{- fail (printf "extraArgs may not set %s with shards: each shard's Deployment sets its own" .) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if .shard -}}
- --watch-label-selector=integration.b2b.dev/shard={{ .shard }}
- --leader-election-id={{ include "b2b.fullname" .root }}-shard-{{ .shard }}
{{- else if $shards -}}
- --watch-label-selector=integration.b2b.dev/shard notin ({{ join "," $shards }})
- --leader-election-id=b2b-certificate-operator
{{- else -}}
[]
{{- end -}}
{{- end -}}
