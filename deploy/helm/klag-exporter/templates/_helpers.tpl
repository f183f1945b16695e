{{/* Names and labels. */}}
{{- define "klag-exporter.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "klag-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "klag-exporter.labels" -}}
{{ include "klag-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "klag-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "klag-exporter.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* The exporter settings with the chart's defaults filled in: a Kubernetes
     Lease lives in the release's namespace unless the values say otherwise. */}}
{{- define "klag-exporter.exporterSettings" -}}
{{- $exporter := deepCopy (.Values.config.exporter | default dict) -}}
{{- $leadership := $exporter.leadership | default dict -}}
{{- if and $leadership.enabled (eq ($leadership.provider | default "kafka") "kubernetes") -}}
{{- $_ := set $leadership "lease_namespace" ($leadership.lease_namespace | default .Release.Namespace) -}}
{{- $_ := set $exporter "leadership" $leadership -}}
{{- end -}}
{{- toJson $exporter -}}
{{- end -}}

{{/* One TOML table's keys: scalars and lists as `key = <JSON>`, which is
     valid TOML for strings, numbers, booleans and arrays of them. Maps are
     left to the caller, which writes them as sub-tables. */}}
{{- define "klag-exporter.tomlKeys" -}}
{{- range $k, $v := . }}
{{- if not (kindIs "map" $v) }}
{{ $k | quote }} = {{ toJson $v }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The keys of the deepest table the config has: a map here would be lost,
     so it is an error (write dotted keys such as "security.protocol" as one
     quoted key). */}}
{{- define "klag-exporter.tomlLeafKeys" -}}
{{- $table := index . 0 -}}
{{- $path := index . 1 -}}
{{- range $k, $v := $table }}
{{- if kindIs "map" $v }}
{{- fail (printf "config: %s.%s is a map, which this table cannot hold; quote dotted keys as one key, e.g. \"security.protocol\": \"SASL_SSL\"" $path $k) }}
{{- end }}
{{- end }}
{{- include "klag-exporter.tomlKeys" $table }}
{{- end -}}

{{/* config.toml: [exporter] and its sub-tables, then every [[clusters]]. */}}
{{- define "klag-exporter.configToml" -}}
{{- $exporter := include "klag-exporter.exporterSettings" . | fromJson -}}
# Rendered by the klag-exporter Helm chart from .Values.config.
[exporter]
{{- include "klag-exporter.tomlKeys" $exporter }}
{{- range $k, $v := $exporter }}
{{- if kindIs "map" $v }}

[exporter.{{ $k }}]
{{- include "klag-exporter.tomlKeys" $v }}
{{- range $k2, $v2 := $v }}
{{- if kindIs "map" $v2 }}

[exporter.{{ $k }}.{{ $k2 }}]
{{- include "klag-exporter.tomlLeafKeys" (list $v2 (printf "exporter.%s.%s" $k $k2)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- range .Values.config.clusters }}

[[clusters]]
{{- include "klag-exporter.tomlKeys" . }}
{{- range $k, $v := . }}
{{- if kindIs "map" $v }}

[clusters.{{ $k }}]
{{- include "klag-exporter.tomlLeafKeys" (list $v (printf "clusters[].%s" $k)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "klag-exporter.leadershipEnabled" -}}
{{- if ((.Values.config.exporter | default dict).leadership | default dict).enabled -}}true{{- end -}}
{{- end -}}

{{- define "klag-exporter.httpPort" -}}
{{- (.Values.config.exporter | default dict).http_port | default 8000 | int -}}
{{- end -}}
