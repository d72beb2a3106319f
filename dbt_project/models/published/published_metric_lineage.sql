{# metric_lineage as published: reference data and definitions, nothing to control. #}
select * from {{ ref('metric_lineage') }}
