with

source as (

    select * from {{ source('catalog', 'zones') }}

),

renamed as (

    select
        zone_id,
        store_id,
        kind as zone_kind,
        x0_m,
        y0_m,
        x1_m,
        y1_m,
        area_m2,
        case when categories = '' then []::varchar[] else string_split(categories, ',') end as categories,
        restricted as is_restricted,

    from source

)

select * from renamed
