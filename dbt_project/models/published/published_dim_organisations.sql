{# dim_organisations as published: reference data and definitions, nothing to control. #}
select * from {{ ref('dim_organisations') }}
