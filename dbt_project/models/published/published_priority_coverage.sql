{# priority_coverage as published: reference data and definitions, nothing to control. #}
select * from {{ ref('priority_coverage') }}
