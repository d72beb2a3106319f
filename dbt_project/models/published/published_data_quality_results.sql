{# data_quality_results as published: reference data and definitions, nothing to control. #}
select * from {{ ref('data_quality_results') }}
