{# dim_specialties as published: reference data and definitions, nothing to control. #}
select * from {{ ref('dim_specialties') }}
